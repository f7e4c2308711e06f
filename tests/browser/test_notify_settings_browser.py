"""#20 notifications by e-mail and webhook, in the browser: a supplier's admin chooses them on
通知设置 (in Chinese, in English, at a phone's width), copies the webhook's secret shown once,
and a ticket issued to the supplier arrives by SMTP (aiosmtpd on 127.0.0.1) and at the webhook
(an http.server on 127.0.0.1), signed with that secret."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import hmac
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect
from portal_browser_kit import DEMO_PASSWORD, LiveSite, doc_shot, faults, shot
from support import free_port
from test_portal_browser import PHONE_FAULTS, issue_directly

from goldticket.services import accounts
from goldticket.services.notify import worker


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


class _Receiver(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def outside(site: LiveSite) -> Iterator[tuple[_Mailbox, _Receiver]]:
    port = free_port()
    mailbox, receiver = _Mailbox(), _Receiver()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    before = site.portal.platform.settings
    site.portal.platform.settings = dataclasses.replace(before, smtp_host="127.0.0.1", smtp_port=port)
    try:
        yield mailbox, receiver
    finally:
        site.portal.platform.settings = before
        controller.stop()
        receiver.shutdown()
        receiver.server_close()


def test_a_supplier_admin_chooses_e_mail_and_webhook_and_a_new_ticket_arrives_by_both(
    site: LiveSite, people: Any, artifacts: Path, outside: tuple[_Mailbox, _Receiver]
) -> None:
    mailbox, receiver = outside
    accounts.ensure_account(
        site.portal, username="szjm.admin", org_id="szjm", role="admin", password=DEMO_PASSWORD
    )
    admin = people("szjm.admin", "zh")
    page = admin.go("/")
    page.click("nav.main a[href='/settings/notifications']")
    page.wait_for_url("**/settings/notifications")
    assert not faults(page.content(), "zh")
    page.fill("input[name=email_to]", "ap@szjm.test")
    page.check("input[name=email_kinds][value=ticket_issued]")
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/erp"
    page.fill("input[name=webhook_url]", hook)
    page.check("input[name=webhook_kinds][value=ticket_issued]")
    page.click("#notify-settings form button.primary")
    expect(page.locator("[data-testid=saved]")).to_have_text("已保存。")
    secret = page.inner_text("[data-testid=webhook-secret] code")
    assert secret.startswith("whsec_")
    shot(page, artifacts, "zh-notify-settings-secret-once")

    ticket_id = issue_directly(site, "szjm", 3_000_000, "INV-NOTIFY")
    site.portal.follower.catch_up()
    assert worker.run_once(site.portal).delivered == 2
    (message,) = mailbox.messages
    assert message["Subject"] == "【金票】有金票开给您：请签收或拒收" and ticket_id in message.get_content()
    ((headers, body),) = receiver.requests
    mac = hmac.new(secret.encode(), headers["GoldTicket-Timestamp"].encode() + b"." + body, hashlib.sha256)
    assert headers["GoldTicket-Signature"] == "v1=" + mac.hexdigest() and ticket_id.encode() in body

    page = admin.go("/settings/notifications")
    assert secret not in page.content()  # shown once
    expect(page.locator("#deliveries tr[data-state=delivered]")).to_have_count(2)
    assert not faults(page.content(), "zh")
    shot(page, artifacts, "zh-notify-settings")
    page.locator("#deliveries").scroll_into_view_if_needed()
    doc_shot(page, "zh-11-notifications-delivered-by-smtp-and-webhook")
    admin.close()

    phone = people("szjm.admin", "zh", viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = phone.go("/settings/notifications")
    assert page.evaluate(PHONE_FAULTS) == []
    shot(page, artifacts, "zh-phone-notify-settings")
    english = people("szjm.admin", "en")
    page = english.go("/settings/notifications")
    expect(page.locator("h1")).to_have_text("Notification settings")
    assert not faults(page.content(), "en")
    # a clerk of the same supplier has no such page
    clerk = people("szjm.clerk", "zh")
    assert clerk.page.locator("nav.main a[href='/settings/notifications']").count() == 0
    assert clerk.go("/settings/notifications").locator("body").count() == 1
    response = clerk.page.goto(site.url + "/settings/notifications")
    assert response is not None and response.status == 403
