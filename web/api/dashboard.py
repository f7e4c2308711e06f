"""The caller's dashboard (#20): its member's figures by role (goldticket.services.dashboards)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from goldticket.services import dashboards
from goldticket.services.context import Actor

from ._endpoint import endpoint, portal

bp = Blueprint("dashboard", __name__)


@endpoint(bp, "/dashboard", "GET", summary="The caller's member's figures by role, exact to the fen")
def dashboard(actor: Actor) -> dict[str, Any]:
    return dashboards.dashboard(portal(), actor)
