"""Errors of the message codec."""


class MessageError(Exception):
    """A Fabric message that cannot be decoded or does not hold together."""


class BadSignatureError(MessageError):
    """A signature that is malformed, has a high S value, or does not verify."""
