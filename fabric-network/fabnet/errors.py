"""The one error the network tool raises: a sentence saying what went wrong and what to do."""


class NetworkError(Exception):
    """The network cannot be brought up, down or inspected; the message says why."""
