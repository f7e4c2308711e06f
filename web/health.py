"""Operations endpoints outside the API prefix: /healthz, /metrics and /metrics/signer (the
signing gateway's, for Prometheus)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from goldticket.signing.errors import GatewayUnavailableError

from .api.service import health
from .observability import metrics_text, signer_metrics_text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(health())


@bp.get("/metrics")
def metrics() -> Response:
    body = metrics_text(current_app.extensions["goldticket"])
    return Response(body, mimetype="text/plain; version=0.0.4")


@bp.get("/metrics/signer")
def signer_metrics() -> Response:
    try:
        body = signer_metrics_text(current_app.extensions["goldticket"])
    except GatewayUnavailableError:
        # Prometheus marks the target down: the SigningGatewayDown alert
        message = "the signing gateway does not answer"
        return Response(
            json.dumps({"error": "gateway_unavailable", "message": message}), 503, mimetype="application/json"
        )
    return Response(body, mimetype="text/plain; version=0.0.4")
