"""API v1 under /api/v1: one blueprint per area, nested in the ``api`` blueprint."""

from __future__ import annotations

from flask import Blueprint

from . import (
    account_changes,
    auth,
    certificates,
    credit,
    dashboard,
    desk,
    inbox,
    notify,
    offers,
    operations,
    overdue,
    registration,
    service,
    tickets,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for area in (
    auth,
    desk,
    credit,
    tickets,
    offers,
    service,
    certificates,
    dashboard,
    inbox,
    notify,
    overdue,
    operations,
    registration,
    account_changes,
):
    bp.register_blueprint(area.bp)
bp.register_blueprint(auth.me_bp)

__all__ = ["bp"]
