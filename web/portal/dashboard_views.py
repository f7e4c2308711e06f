"""The dashboard page (#20): the member's figures by role (goldticket.services.dashboards),
each amount exact to the fen with its 大写 on hover, and links to the lists behind them."""

from __future__ import annotations

from typing import Any

from flask import render_template

from goldticket.services import dashboards

from ._blueprint import actor, bp, portal
from .formatting import STATUS_TEXT


@bp.get("/dashboard")
def dashboard() -> Any:
    figures = dashboards.dashboard(portal(), actor())
    return render_template("portal/dashboard.html", d=figures, states=list(STATUS_TEXT))
