"""The operations console: the operator's page of every node, the chain, the signing gateway,
the web service and the read model, with the alerts on top. The page refreshes itself every
5 s from /operations/status.json (the figures and the panel as HTML), operator only like the
page; every other member's users get 403. Charts are inline SVG drawn here: no script or style
from elsewhere (the portal's CSP allows only its own)."""

from __future__ import annotations

import math
from typing import Any

from flask import abort, current_app, jsonify, render_template

from goldticket.services import operations
from goldticket.services.context import OPERATOR
from goldticket.store.ops_history import History
from web.observability import metrics_text

from ._blueprint import actor, bp, portal

REFRESH_SECONDS = 5
CHART = (240, 48)  # width, height of a sparkline


def _operator_only() -> None:
    if actor().member_id != OPERATOR:
        abort(403)


def _history() -> History:
    history: History | None = current_app.extensions.get("goldticket_operations_history")
    if history is None:
        history = operations.history_of(portal().settings)
        current_app.extensions["goldticket_operations_history"] = history
    return history


def _status() -> dict[str, Any]:
    p = portal()
    sources = operations.sources_of(p, lambda: metrics_text(p).decode("utf-8", "replace"))
    return operations.status(sources, _history())


def sparkline(
    points: list[tuple[float, float]], width: int = CHART[0], height: int = CHART[1]
) -> dict[str, Any]:
    """An SVG polyline's points for ``points`` (time, value), scaled to the box; the peak and
    the newest value for the labels."""
    if len(points) < 2:
        return {
            "points": "",
            "peak": points[-1][1] if points else None,
            "last": points[-1][1] if points else None,
        }
    first, last = points[0][0], points[-1][0]
    span = (last - first) or 1.0
    low = min(value for _, value in points)
    high = max(value for _, value in points)
    rise = (high - low) or 1.0
    scaled = [
        f"{(t - first) / span * (width - 2) + 1:.1f},{height - 1 - (v - low) / rise * (height - 2):.1f}"
        for t, v in points
    ]
    return {"points": " ".join(scaled), "peak": high, "last": points[-1][1], "low": low}


def _charts(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: sparkline([tuple(point) for point in series]) for name, series in status["series"].items()}


def _panel(status: dict[str, Any]) -> str:
    return render_template(
        "portal/operations_panel.html", s=status, charts=_charts(status), chart=CHART, duration=duration
    )


def duration(seconds: float | None) -> str:
    """12 s, 3.4 min, 2.1 h: short, for the tables."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@bp.get("/operations")
def operations_console() -> Any:
    _operator_only()
    status = _status()
    return render_template("portal/operations.html", panel=_panel(status), refresh=REFRESH_SECONDS)


@bp.get("/operations/status.json")
def operations_status() -> Any:
    _operator_only()
    status = _status()
    return jsonify({"status": status, "panel": _panel(status)})
