"""Schemathesis hooks for the runs of test_schemathesis.py (loaded through the ``hooks`` key of
schemathesis.toml): a request with data the document allows carries the signer's real PIN, so
that a write gets past the card and reaches the business rules instead of answering
``wrong_pin`` every time (and locking the test's cards after five). Requests with data the
document forbids keep whatever was generated: the server must refuse them before any card."""

from __future__ import annotations

import os
from typing import Any

import schemathesis

PINS = {
    "pin": os.environ.get("GOLDTICKET_ST_PIN", ""),
    "desk_pin": os.environ.get("GOLDTICKET_ST_DESK_PIN", ""),
}


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    for field, value in PINS.items():
        if value and isinstance(case.body.get(field), str):
            case.body[field] = value
