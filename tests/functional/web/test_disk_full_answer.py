"""A full disk anywhere under a request (SQLite's SQLITE_FULL, wrapped by SQLAlchemy or not,
ENOSPC) answers 507 `insufficient_storage` in the JSON envelope with Retry-After, never 500;
any other unexpected error stays 500. The real full disk: test_full_disk.py (root only)."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

pytestmark = pytest.mark.functional


def _raising(app: Any, error: BaseException) -> Any:
    @app.get("/api/v1/_raise")
    def raise_it() -> Any:
        raise error

    return app.test_client().get("/api/v1/_raise")


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("COMMIT", {}, sqlite3.OperationalError("database or disk is full")),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["sqlite_full", "enospc"],
)
def test_a_full_disk_is_507_in_the_envelope(app: Any, error: BaseException) -> None:
    response = _raising(app, error)
    assert response.status_code == 507
    assert response.get_json()["error"] == "insufficient_storage"
    assert int(response.headers["Retry-After"]) >= 1


def test_another_unexpected_error_stays_500(app: Any) -> None:
    response = _raising(app, RuntimeError("boom"))
    assert response.status_code == 500 and response.get_json()["error"] == "internal_error"
