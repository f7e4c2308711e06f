"""The README's screenshots of the portal (docs/portal-supplier-inbox.png, docs/portal-lineage.png):
the demo consortium in a temporary data directory, one more ticket waiting for the supplier and
a transfer offer to it, served on a free port and photographed in Debian's Chromium.

    .venv/bin/python tools/portal_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goldticket.services import accounts, setup, tickets, transfers  # noqa: E402
from goldticket.services.demo import DEMO_PIN, run_demo  # noqa: E402
from goldticket.services.portal import Portal  # noqa: E402
from goldticket.settings import Settings  # noqa: E402
from web import create_app  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
         "--disable-background-networking", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]  # fmt: skip


def issue(portal: Portal, payee: str, amount_fen: int, number: str) -> str:
    platform = portal.platform
    invoice = {
        "number": number,
        "amount_fen": amount_fen,
        "sha256": hashlib.sha256(number.encode()).hexdigest(),
    }
    return str(
        tickets.issue_ticket(
            platform,
            platform.actor("hdzg.clerk"),
            payee_org_id=payee,
            amount_fen=amount_fen,
            maturity_date=platform.today() + dt.timedelta(days=90),
            invoices=[invoice],
            pin=DEMO_PIN,
        )["id"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data", env="dev", card_kdf_n=2**14, operator_password="screenshots only",
            operator_pin="246810", password_memory_kib=8192,
        )  # fmt: skip
        portal = setup.init_portal(settings)
        statement = run_demo(portal.platform, lambda text: None)
        accounts.ensure_demo_accounts(portal)
        platform = portal.platform
        issue(portal, "szjm", 38_600_000, "INV-20261201-0042")
        other = issue(portal, "wxdj", 12_500_050, "INV-20261201-0043")
        tickets.accept_ticket(platform, platform.actor("wxdj.clerk"), other, pin=DEMO_PIN)
        transfers.offer_transfer(
            platform,
            platform.actor("wxdj.clerk"),
            ticket_id=other,
            to_org_id="szjm",
            amount_fen=4_000_000,
            pin=DEMO_PIN,
        )
        portal.follower.catch_up()
        app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "screenshots"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1100, "height": 640})
            page.goto(f"{url}/login")
            page.fill("input[name=username]", "szjm.clerk")
            page.fill("input[name=password]", accounts.DEMO_PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_selector("#inbox")
            page.screenshot(path=str(args.out / "portal-supplier-inbox.png"))
            page.goto(f"{url}/tickets/{statement['root_id']}")
            page.locator("#lineage").screenshot(path=str(args.out / "portal-lineage.png"))
            browser.close()
        server.shutdown()
        portal.close()


if __name__ == "__main__":
    main()
