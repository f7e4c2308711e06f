"""Which transactions a request signs, learned as it signs them: the portal's signing backend
reports each envelope's transaction id before the card signs it (and so before it can be
submitted) to whoever is observing the current request (``idempotency``)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

from goldticket import messages as m

_observer: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "idempotency_observer", default=None
)


@contextlib.contextmanager
def observe(note: Callable[[str], None]) -> Iterator[None]:
    """Within the block, ``note(tx_id)`` is called for each transaction envelope signed."""
    token = _observer.set(note)
    try:
        yield
    finally:
        _observer.reset(token)


class ObservedSigning:
    """Wraps the signing backend: reports the transaction id of each envelope before it is
    signed (and so before it can be submitted) to the request's observer."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def identity(self, serial: str) -> m.Identity:
        return self.backend.identity(serial)  # type: ignore[no-any-return]

    def prove_pin(self, *, serial: str, pin: str, **kwargs: Any) -> None:
        self.backend.prove_pin(serial=serial, pin=pin, **kwargs)

    def sign(
        self, *, serial: str, pin: str, purpose: str, message: bytes, intent: Any, **kwargs: Any
    ) -> bytes:
        observer = _observer.get()
        if observer is not None and purpose == "transaction":
            observer(m.decode_transaction(message).tx_id)
        return self.backend.sign(  # type: ignore[no-any-return]
            serial=serial, pin=pin, purpose=purpose, message=message, intent=intent, **kwargs
        )
