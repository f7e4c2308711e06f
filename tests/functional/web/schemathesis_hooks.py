"""Schemathesis hooks for the runs of test_schemathesis.py (loaded through the ``hooks`` key of
schemathesis.toml). A request with data the document allows gets the test consortium's real
values in the fields that name a secret or a counterpart (GOLDTICKET_ST_FIELDS, JSON: the
signer's PIN, the operator's desk PIN, members that exist, a maturity date in range), so that a
write gets past the card and the directory and reaches the business rules and the ledger
instead of answering ``wrong_pin`` every time (and locking the test's cards after five) or 404.
A field is replaced only where the generated value is itself one the document allows there, so
a request keeps its class: data the document forbids stays forbidden (the server must refuse it
before any card), whichever phase made it (the stateful phase's cases carry no mode)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from typing import Any

import schemathesis

FIELDS: dict[str, str] = json.loads(os.environ.get("GOLDTICKET_ST_FIELDS", "{}"))


# The document's rule for each field that may be replaced (web/api/schemas.py).
RULES = {
    "pin": r"[0-9]{6,12}",
    "desk_pin": r"[0-9]{6,12}",
    "payee_org_id": r"[A-Za-z0-9_.-]{1,64}",
    "to_org_id": r"[A-Za-z0-9_.-]{1,64}",
    "bank_org_id": r"[A-Za-z0-9_.-]{1,64}",
    "core_org_id": r"[A-Za-z0-9_.-]{1,64}",
    "maturity_date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
    "value_date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
}


def _allowed(field: str, value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(RULES[field], value):
        return False
    if field.endswith("_date"):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
    return True


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if not isinstance(case.body, dict):
        return
    for field, value in FIELDS.items():
        if _allowed(field, case.body.get(field)):
            case.body[field] = value
