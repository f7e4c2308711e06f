"""The GoldTicket web application: the HTTP API and the portal's pages (web/portal) over the
services. ``create_app`` builds it; nothing is read at import time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask

from goldticket.services import certificates
from goldticket.services.notify import worker as notify_worker
from goldticket.services.portal import Portal
from goldticket.settings import ConfigError, Settings

from . import errors, health, observability
from . import portal as portal_pages
from .api import bp as api_bp

log = logging.getLogger("goldticket.web")
WARM_THREAD = "goldticket-pdf-warm-up"
MAX_BODY_BYTES = 256 * 1024


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The application. ``test_config`` may carry ``GOLDTICKET_PORTAL`` (an open Portal, which
    the caller closes) or ``GOLDTICKET_SETTINGS``; otherwise settings come from GOLDTICKET_*."""
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False, FOLLOW_SECONDS=1.0)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    portal = app.config.get("GOLDTICKET_PORTAL")
    if portal is None:
        settings = app.config.get("GOLDTICKET_SETTINGS") or Settings.from_env()
        if settings.env == "prod" and not settings.signer_url:
            raise ConfigError(
                "the portal signs through the signing gateway: set GOLDTICKET_SIGNER_URL (goldticket serve does)"
            )
        portal = Portal.open(settings)
        # a worker (goldticket serve) loads the PDF machinery off the request path
        app.config.setdefault("WARM_PDF", True)
    app.extensions["goldticket"] = portal
    if not app.testing and not logging.getLogger("goldticket").handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logging.getLogger("goldticket").addHandler(handler)
        logging.getLogger("goldticket").setLevel(logging.INFO)
    errors.init_app(app)
    observability.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(health.bp)
    portal_pages.init_app(app, portal.settings.data_dir)
    if app.config["FOLLOW_SECONDS"]:
        _follow(portal, float(app.config["FOLLOW_SECONDS"]))
    if app.config.get("WARM_PDF"):
        _warm_pdf(portal)
    every = float(app.config.get("NOTIFY_SECONDS", portal.settings.notify_seconds))
    if every:  # e-mail and webhook deliveries (#20): only when GOLDTICKET_NOTIFY_SECONDS is set
        app.extensions["goldticket-notify"] = notify_worker.start(portal, every)
    return app


def _warm_pdf(portal: Portal) -> None:
    """Load WeasyPrint, the fonts and the document signer in the background, so that a
    worker's first certificate or statement does not pay ~1.5-3 s for them (#20 point 15)."""

    def warm() -> None:
        try:
            certificates.warm_up(portal.platform)
        except Exception:  # the first PDF then pays for it, and says why if it cannot
            log.exception("the PDF renderer could not be warmed up")

    threading.Thread(target=warm, name=WARM_THREAD, daemon=True).start()


def _follow(portal: Portal, every: float) -> None:
    """Keep the read model up with writes made elsewhere (other workers, the CLI, other
    organisations' clients on Fabric)."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                portal.follower.catch_up()
            except Exception:  # the next round tries again; the lag shows in /metrics
                log.exception("the follower could not catch up")

    threading.Thread(target=loop, name="goldticket-follower", daemon=True).start()
