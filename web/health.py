"""Operations endpoints outside the API prefix: /healthz and /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from .api.service import health
from .observability import metrics_text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(health())


@bp.get("/metrics")
def metrics() -> Response:
    body = metrics_text(current_app.extensions["goldticket"])
    return Response(body, mimetype="text/plain; version=0.0.4")
