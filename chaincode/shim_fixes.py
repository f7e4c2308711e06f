"""Fixes around fabric-chaincode-python 2.5.4, kept in one place.

Logging: importing the library runs ``logging.basicConfig(level=DEBUG)`` on the root logger
(fabric_shim/logging.py) and sends its "asyncio" logger, which logs every state value at INFO,
through a queue thread. That would print our own INFO logs and the library's state values on
stderr. ``quiet_library_logging`` takes back the root logger and silences the library below
WARNING; importing this module applies it. Tests in tests/unit/chaincode fail if the library
stops doing this (then the fix can go) or does it differently.
"""

from __future__ import annotations

import logging

LIBRARY_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def quiet_library_logging() -> None:
    """Undo the library's root logging set-up; leave handlers anyone else installed alone."""
    import fabric_chaincode_python.fabric_shim.logging  # noqa: F401 - runs the library's set-up

    root = logging.getLogger()
    library_handlers = [
        handler
        for handler in root.handlers
        if type(handler) is logging.StreamHandler
        and handler.formatter is not None
        and handler.formatter._fmt == LIBRARY_FORMAT
    ]
    for handler in library_handlers:
        root.removeHandler(handler)
    if library_handlers and root.level == logging.DEBUG:
        root.setLevel(logging.WARNING)
    logging.getLogger("asyncio").setLevel(logging.WARNING)


quiet_library_logging()
