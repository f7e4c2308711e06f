"""#20 notices delivered outside the portal: by e-mail (a real SMTP server, aiosmtpd, on
127.0.0.1) and by signed webhooks (an http.server on 127.0.0.1), each member choosing by its own
admin what goes where. Attacked: another member's admin, a clerk and the operator can neither
read nor change a member's preferences; the webhook's secret is answered once and never again,
nor logged; a tampered body fails the receiver's check; a re-run queues nothing twice."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from apiclient import MATURITY, Api, Members, activate, invoice
from sqlalchemy import func, select
from support import OPERATOR_PIN, PIN, free_port

from goldticket.services.notify import sealed, worker
from goldticket.services.portal import Portal
from goldticket.store.models import Delivery, Notification, NotifyPreference
from goldticket.store.outbox import delivery_id

pytestmark = pytest.mark.functional
SETTINGS = "/orgs/tier1/notification-settings"


# ------------------------------------------------------------------ local servers
class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Mailbox, int]]:
    mailbox, port = _Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


class _Receiver(http.server.ThreadingHTTPServer):
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/erp/hook?source=goldticket"


class _ReceiverHandler(http.server.BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((dict(self.headers.items()), body))
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        if status == 0:  # no answer in time: hold the request past the sender's timeout
            time.sleep(1.5)
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver([])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def erp_verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check as docs/notifications.md tells an ERP to write it (not our code)."""
    stamp = headers["GoldTicket-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(stamp)) <= 300
    return fresh and hmac.compare_digest(headers["GoldTicket-Signature"], "v1=" + expected)


# ------------------------------------------------------------------ helpers
def _admin(members: Members, org_id: str, username: str) -> Api:
    created = members.operator.post(
        "/users",
        {"org_id": org_id, "username": username, "role": "admin", "desk_pin": OPERATOR_PIN},
        expect=201,
    )
    return activate(members.client, username, created["activation_code"])


@pytest.fixture
def admin(members: Members) -> Api:
    return _admin(members, "tier1", "tier1.admin")


def _issue(members: Members, number: str = "INV-1", amount_fen: int = 123_456_789) -> str:
    issued = members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": amount_fen,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice(number, amount_fen)],
            "pin": PIN,
        },
        expect=201,
    )
    return str(issued["id"])


def _with(portal: Portal, **changes: Any) -> None:
    portal.platform.settings = dataclasses.replace(portal.platform.settings, **changes)


def _deliveries(portal: Portal) -> list[Delivery]:
    with portal.database.session() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.created_at)).all())


# ------------------------------------------------------------------ e-mail
def test_a_ticket_issued_to_a_supplier_is_mailed_to_it_in_its_language(
    members: Members, portal: Portal, admin: Api, smtp: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp
    _with(portal, smtp_host="127.0.0.1", smtp_port=port, smtp_from="noreply@goldticket.test")
    admin.call(
        "PUT",
        SETTINGS,
        {"language": "zh", "email_to": ["ap@tier1.test", "cfo@tier1.test"], "email_kinds": ["ticket_issued"]},
        expect=200,
    )
    ticket = _issue(members)
    assert worker.run_once(portal).delivered == 1
    ((recipients, message),) = mailbox.messages
    assert sorted(recipients) == ["ap@tier1.test", "cfo@tier1.test"]
    assert message["Subject"] == "【金票】有金票开给您：请签收或拒收"
    text = message.get_content()
    assert ticket in text and "¥1,234,567.89" in text and "core 公司 (core)" in text and "(UTC+8)" in text
    (row,) = _deliveries(portal)
    assert message["GoldTicket-Delivery"] == row.id and row.state == "delivered" and row.attempts == 1
    assert worker.run_once(portal).delivered == 0 and len(mailbox.messages) == 1  # sent once

    # in English once the admin says so; a kind not chosen (ticket_accepted is core's) sends nothing
    admin.call(
        "PUT",
        SETTINGS,
        {"language": "en", "email_to": ["ap@tier1.test"], "email_kinds": ["ticket_issued"]},
        expect=200,
    )
    members["tier1"].post(f"/tickets/{ticket}/accept", {"pin": PIN}, expect=200)
    _issue(members, "INV-2", 5_000_000)
    assert worker.run_once(portal).delivered == 1
    assert (
        mailbox.messages[-1][1]["Subject"] == "[GoldTicket] A ticket was issued to you: accept or reject it"
    )
    assert "CNY 50,000.00" in mailbox.messages[-1][1].get_content()
    assert len(mailbox.messages) == 2


def test_e_mail_waits_while_no_smtp_server_is_set(members: Members, portal: Portal, admin: Api) -> None:
    admin.call("PUT", SETTINGS, {"email_to": ["ap@tier1.test"], "email_kinds": ["ticket_issued"]}, expect=200)
    _issue(members)
    assert worker.run_once(portal) == worker.Round()
    (row,) = _deliveries(portal)
    assert row.state == "pending" and row.attempts == 0


def test_a_preference_turned_off_sends_nothing(
    members: Members, portal: Portal, admin: Api, smtp: tuple[_Mailbox, int], receiver: _Receiver
) -> None:
    mailbox, port = smtp
    _with(portal, smtp_host="127.0.0.1", smtp_port=port)
    _issue(members, "INV-0")  # before any preference: nothing is queued, then or later
    assert _deliveries(portal) == []
    answer = admin.call(
        "PUT",
        SETTINGS,
        {
            "email_to": ["ap@tier1.test"],
            "email_kinds": ["offer_received"],
            "webhook_url": receiver.url,
            "webhook_kinds": ["offer_received"],
        },
        expect=200,
    )
    assert answer["webhook_secret"]
    _issue(members, "INV-1")  # ticket_issued is chosen by neither channel
    assert _deliveries(portal) == []
    admin.call(
        "PUT",
        SETTINGS,
        {
            "email_to": ["ap@tier1.test"],
            "email_kinds": ["ticket_issued"],
            "webhook_url": receiver.url,
            "webhook_kinds": ["ticket_issued"],
        },
        expect=200,
    )
    _issue(members, "INV-2")
    assert {row.channel for row in _deliveries(portal)} == {"email", "webhook"}
    # turned off before the worker ran: both are cancelled, nothing is sent
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url}, expect=200)
    assert worker.run_once(portal).cancelled == 2
    assert mailbox.messages == [] and receiver.requests == []
    assert {row.state for row in _deliveries(portal)} == {"cancelled"}


# ------------------------------------------------------------------ webhooks
def test_a_webhook_is_signed_retried_after_a_500_and_delivered_once_with_one_id(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _with(portal, notify_backoff_seconds=30.0, notify_max_attempts=3)
    answer = admin.call(
        "PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200
    )
    secret = answer["webhook_secret"]
    assert secret.startswith("whsec_") and len(secret) > 40 and answer["webhook_secret_set"] is True
    receiver.statuses[:] = [500, 200]
    ticket = _issue(members)

    start = dt.datetime.now(dt.UTC)
    assert worker.run_once(portal, now=start).retrying == 1
    (row,) = _deliveries(portal)
    assert row.state == "pending" and row.attempts == 1 and row.last_error == "the receiver answered HTTP 500"
    assert worker.run_once(portal, now=start + dt.timedelta(seconds=29)) == worker.Round()  # backing off
    assert worker.run_once(portal, now=start + dt.timedelta(seconds=31)).delivered == 1
    assert worker.run_once(portal, now=start + dt.timedelta(hours=1)) == worker.Round()

    first, second = receiver.requests
    with portal.database.session() as session:
        notice = session.scalars(select(Notification).where(Notification.member_id == "tier1")).one()
    expected_id = delivery_id(notice.id, "webhook")
    assert first[0]["GoldTicket-Delivery"] == second[0]["GoldTicket-Delivery"] == expected_id
    assert first[1] == second[1]  # the same body on each attempt; the timestamp signs each
    for headers, body in receiver.requests:
        assert erp_verifies(secret, headers, body)
    document = json.loads(second[1])
    assert document["delivery_id"] == expected_id and document["member_id"] == "tier1"
    assert (
        document["notification"]["kind"] == "ticket_issued"
        and document["notification"]["ticket_id"] == ticket
    )
    assert document["notification"]["amount_fen"] == 123_456_789

    # a forged or tampered request fails the receiver's check
    headers, body = second
    assert not erp_verifies(secret, headers, body.replace(b"123456789", b"923456789"))
    assert not erp_verifies("whsec_" + "A" * 43, headers, body)
    stale = {**headers, "GoldTicket-Timestamp": str(int(headers["GoldTicket-Timestamp"]) - 1)}
    assert not erp_verifies(secret, stale, body)

    # the member sees its deliveries; the secret is never answered again, nor in the logs
    (listed,) = admin.get("/orgs/tier1/deliveries", expect=200)["items"]
    assert listed["state"] == "delivered" and listed["attempts"] == 2 and listed["id"] == expected_id
    again = admin.get(SETTINGS, expect=200)
    assert "webhook_secret" not in again and again["webhook_secret_set"] is True
    kept = admin.call(
        "PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200
    )
    assert "webhook_secret" not in kept
    for response in (again, kept, listed):
        assert secret not in json.dumps(response)
    assert secret not in caplog.text and "HTTP 500" in caplog.text


def test_a_webhook_that_keeps_failing_is_marked_failed_and_shown(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    _with(portal, notify_backoff_seconds=1.0, notify_max_attempts=3)
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    receiver.statuses[:] = [503, 502, 500, 200]
    _issue(members)
    start = dt.datetime.now(dt.UTC)
    rounds = [
        worker.run_once(portal, now=start + dt.timedelta(seconds=s)) for s in (0, 0.9, 1.5, 3.0, 3.6, 100)
    ]
    assert [r.retrying for r in rounds] == [1, 0, 1, 0, 0, 0]  # waits 1 s, then 2 s (doubled)
    assert [r.failed for r in rounds] == [0, 0, 0, 0, 1, 0]
    assert len(receiver.requests) == 3
    (listed,) = admin.get("/orgs/tier1/deliveries", expect=200)["items"]
    assert listed["state"] == "failed" and listed["attempts"] == 3
    assert listed["last_error"] == "the receiver answered HTTP 500"


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    _with(portal, webhook_timeout=0.3, notify_backoff_seconds=5.0)
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    receiver.statuses[:] = [0, 200]
    _issue(members)
    start = dt.datetime.now(dt.UTC)
    assert worker.run_once(portal, now=start).retrying == 1
    (row,) = _deliveries(portal)
    assert row.last_error == "the receiver did not answer in time"
    assert worker.run_once(portal, now=start + dt.timedelta(seconds=6)).delivered == 1
    assert [headers["GoldTicket-Delivery"] for headers, _ in receiver.requests] == [row.id, row.id]


def test_an_unreachable_receiver_is_retried_not_lost(members: Members, portal: Portal, admin: Api) -> None:
    port = free_port()  # nothing listens there
    _with(portal, webhook_timeout=2.0)
    admin.call(
        "PUT",
        SETTINGS,
        {"webhook_url": f"http://127.0.0.1:{port}/hook", "webhook_kinds": ["ticket_issued"]},
        expect=200,
    )
    _issue(members)
    assert worker.run_once(portal).retrying == 1
    (row,) = _deliveries(portal)
    assert (
        row.state == "pending"
        and "ConnectionRefusedError" in row.last_error
        and str(port) not in row.last_error
    )


def test_projecting_again_queues_no_delivery_twice(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    _issue(members)
    assert worker.run_once(portal).delivered == 1
    portal.follower.rebuild()
    with portal.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 1
        (notice,) = session.scalars(select(Notification).where(Notification.member_id == "tier1")).all()
        # the UNIQUE (notification, channel): a second row for the same pair is refused
        from goldticket.store import outbox

        assert outbox.enqueue(session, notice.id, "tier1", "ticket_issued", dt.datetime.now(dt.UTC)) == 0
    assert worker.run_once(portal).delivered == 0 and len(receiver.requests) == 1


def test_a_rotated_secret_signs_from_then_on(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    first = admin.call(
        "PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200
    )
    rotated = admin.post(SETTINGS + "/webhook-secret", expect=200)
    assert rotated["webhook_secret"] != first["webhook_secret"]
    _issue(members)
    worker.run_once(portal)
    ((headers, body),) = receiver.requests
    assert erp_verifies(rotated["webhook_secret"], headers, body)
    assert not erp_verifies(first["webhook_secret"], headers, body)
    admin.call("PUT", SETTINGS, {}, expect=200)  # the webhook removed: its secret is forgotten
    assert admin.post(SETTINGS + "/webhook-secret", expect=409)["error"] == "conflict"


# ------------------------------------------------------------------ who may
def test_only_the_members_own_admin_reads_or_changes_its_preferences(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    admin.call("PUT", SETTINGS, {"email_to": ["ap@tier1.test"], "email_kinds": ["ticket_issued"]}, expect=200)
    other_admin = _admin(members, "tier2", "tier2.admin")
    hostile = {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"], "email_to": ["x@evil.test"]}
    for who in (other_admin, members["tier1"], members.operator, members["core"]):
        assert who.call("PUT", SETTINGS, hostile, expect=403)["error"] == "forbidden"
        assert who.get(SETTINGS, expect=403)["error"] == "forbidden"
        assert who.post(SETTINGS + "/webhook-secret", expect=403)["error"] == "forbidden"
        assert who.get("/orgs/tier1/deliveries", expect=403)["error"] == "forbidden"
    # the operator desk neither, for any member
    assert members.operator.call("PUT", "/orgs/tier2/notification-settings", hostile, expect=403)
    settings = admin.get(SETTINGS, expect=200)
    assert settings["email_to"] == ["ap@tier1.test"] and settings["webhook_url"] is None
    assert settings["updated_by"] == "tier1.admin"
    # tier2's admin has its own, untouched by tier1's
    assert other_admin.get("/orgs/tier2/notification-settings", expect=200)["email_to"] == []
    assert members.client.get(f"/api/v1{SETTINGS}").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email_kinds": ["ticket_issued"]}, 422),  # no address to send them to
        ({"email_to": ["not an address"], "email_kinds": ["ticket_issued"]}, 400),
        ({"email_to": ["a@b.test\r\nBcc: x@evil.test"]}, 400),
        ({"email_to": [f"a{n}@b.test" for n in range(6)]}, 400),
        ({"webhook_kinds": ["ticket_issued"]}, 422),  # no URL
        ({"webhook_url": "ftp://127.0.0.1/hook"}, 400),
        ({"webhook_url": "http://user:pass@127.0.0.1/hook"}, 400),
        ({"webhook_url": "http://127.0.0.1/a b"}, 400),
        ({"webhook_url": "http://[127.0.0.1/hook"}, 400),  # urlsplit's ValueError was a 500 (schemathesis)
        ({"webhook_url": "http://]:80/hook"}, 400),
        ({"webhook_url": "http://[::1/hook"}, 400),
        (
            {"webhook_url": "https://\u00ff]U"},
            400,
        ),  # schemathesis: valid by the old pattern, then a 400 by urlsplit
        ({"webhook_url": "http://[1.2.3.4]/hook"}, 422),  # the schema's shape, no IPv6 in the brackets
        ({"email_kinds": ["no_such_kind"], "email_to": ["a@b.test"]}, 400),
        ({"language": "fr"}, 400),
        ({"webhook_secret": "whsec_mine"}, 400),  # the platform makes the secret, never the member
    ],
)
def test_bad_preferences_are_refused_and_change_nothing(
    admin: Api, body: dict[str, Any], status: int
) -> None:
    before = admin.get(SETTINGS, expect=200)
    error = "rule_violation" if status == 422 else "invalid_input"
    assert admin.call("PUT", SETTINGS, body, expect=status)["error"] == error
    assert admin.get(SETTINGS, expect=200) == before


def test_production_takes_only_https_webhooks_to_public_hosts(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    # set in test (http to 127.0.0.1 allowed there), then the platform runs as production
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    _with(portal, env="prod")
    refused = admin.call("PUT", SETTINGS, {"webhook_url": "http://erp.tier1.test/hook"}, expect=422)
    assert refused["message"] == "webhook_url must be an https URL"
    for inside in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "localhost", "192.168.0.7"):
        refused = admin.call("PUT", SETTINGS, {"webhook_url": f"https://{inside}/hook"}, expect=422)
        assert refused["message"] == "webhook_url must name a public host, not one of this network"
    # a URL saved before (or a name that resolves inside): refused when sending, nothing sent
    _issue(members)
    assert worker.run_once(portal).retrying == 1 and receiver.requests == []
    (row,) = _deliveries(portal)
    assert row.last_error == "the webhook's host is not a public address"
    kept = admin.call("PUT", SETTINGS, {"webhook_url": "https://erp.tier1.test/hook"}, expect=200)
    assert "webhook_secret" not in kept and kept["webhook_secret_set"]  # a new URL keeps the secret


# ------------------------------------------------------------------ the workers
def test_goldticket_notify_run_delivers_what_is_due(
    members: Members, portal: Portal, admin: Api, smtp: tuple[_Mailbox, int], receiver: _Receiver
) -> None:
    from click.testing import CliRunner

    from goldticket.cli import main

    mailbox, port = smtp
    admin.call(
        "PUT",
        SETTINGS,
        {
            "language": "en",
            "email_to": ["ap@tier1.test"],
            "email_kinds": ["ticket_issued"],
            "webhook_url": receiver.url,
            "webhook_kinds": ["ticket_issued"],
        },
        expect=200,
    )
    _issue(members)
    settings = portal.settings
    env = {
        "GOLDTICKET_DATA_DIR": str(settings.data_dir),
        "GOLDTICKET_ENV": "test",
        "GOLDTICKET_TODAY": settings.today.isoformat() if settings.today else None,
        "GOLDTICKET_CARD_KDF_N": str(settings.card_kdf_n),
        "GOLDTICKET_CARD_BACKEND": settings.card_backend or None,
        "GOLDTICKET_SIGNER_URL": None,
        "GOLDTICKET_SMTP_HOST": "127.0.0.1",
        "GOLDTICKET_SMTP_PORT": str(port),
        "GOLDTICKET_SMTP_USER": None,
        "GOLDTICKET_NOTIFY_SECONDS": None,
    }
    result = CliRunner().invoke(main, ["notify", "run", "--json"], env=env)
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["rounds"] == 1 and counts["delivered"] == 2
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1
    again = CliRunner().invoke(main, ["notify", "run", "--every", "0.1", "--rounds", "2", "--json"], env=env)
    assert json.loads(again.output)["rounds"] == 2 and json.loads(again.output)["delivered"] == 0
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1


def test_the_web_app_delivers_in_a_thread_only_when_set(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    from web import create_app

    quiet = create_app({"TESTING": True, "GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0})
    assert "goldticket-notify" not in quiet.extensions  # GOLDTICKET_NOTIFY_SECONDS unset: off
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    _issue(members)
    app = create_app(
        {"TESTING": True, "GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "NOTIFY_SECONDS": 0.1}
    )
    try:
        deadline = time.monotonic() + 20
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.requests) == 1
    finally:
        app.extensions["goldticket-notify"].set()
    (row,) = _deliveries(portal)
    deadline = time.monotonic() + 10
    while row.state != "delivered" and time.monotonic() < deadline:
        time.sleep(0.05)
        (row,) = _deliveries(portal)
    assert row.state == "delivered"


# ------------------------------------------------------------------ the portal's page
def test_the_member_admin_sets_deliveries_in_the_portal_and_sees_the_secret_once(
    app: Any, members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    from test_portal_pages import form_token, portal_login

    browser = portal_login(app, "tier1.admin")
    home = browser.get("/").get_data(as_text=True)
    assert 'href="/settings/notifications"' in home
    page = browser.get("/settings/notifications")
    assert page.status_code == 200 and "通知设置" in page.get_data(as_text=True)
    form = {
        "csrf_token": form_token(browser),
        "language": "en",
        "email_to": "ap@tier1.test, cfo@tier1.test",
        "email_kinds": ["ticket_issued", "offer_received"],
        "webhook_url": receiver.url,
        "webhook_kinds": ["ticket_issued"],
    }
    assert browser.post("/settings/notifications", data={**form, "csrf_token": ""}).status_code == 400
    assert admin.get(SETTINGS, expect=200)["webhook_url"] is None  # nothing saved without CSRF
    answer = browser.post("/settings/notifications", data=form)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    (secret,) = re.findall(r"<code>(whsec_[A-Za-z0-9_-]+)</code>", answer.get_data(as_text=True))
    saved = admin.get(SETTINGS, expect=200)
    assert saved["email_to"] == ["ap@tier1.test", "cfo@tier1.test"] and saved["language"] == "en"
    assert saved["email_kinds"] == ["ticket_issued", "offer_received"] and saved["webhook_kinds"] == [
        "ticket_issued"
    ]
    assert secret not in browser.get("/settings/notifications").get_data(as_text=True)  # shown once

    # a delivery that failed shows with its reason, in the page's language
    receiver.statuses[:] = [500]
    _issue(members)
    worker.run_once(portal)
    page = browser.get("/settings/notifications").get_data(as_text=True)
    assert 'data-state="pending"' in page and "接收方返回 HTTP 500" in page
    assert secret not in page

    # a bad address: refused with a translated sentence, nothing changed
    bad = browser.post(
        "/settings/notifications", data={**form, "csrf_token": form_token(browser), "email_to": "nope"}
    )
    assert bad.status_code == 400 and "不是有效的电子邮件地址" in bad.get_data(as_text=True)
    assert admin.get(SETTINGS, expect=200)["email_to"] == ["ap@tier1.test", "cfo@tier1.test"]

    rotated = browser.post("/settings/notifications/secret", data={"csrf_token": form_token(browser)})
    (new,) = re.findall(r"<code>(whsec_[A-Za-z0-9_-]+)</code>", rotated.get_data(as_text=True))
    assert new != secret


def test_the_settings_page_is_refused_to_clerks_and_the_operator(
    app: Any, members: Members, admin: Api
) -> None:
    from support import OPERATOR_PASSWORD
    from test_portal_pages import form_token, portal_login

    clerk = portal_login(app, "tier1.clerk")
    assert 'href="/settings/notifications"' not in clerk.get("/").get_data(as_text=True)
    assert clerk.get("/settings/notifications").status_code == 403
    form = {"csrf_token": form_token(clerk), "email_to": "x@evil.test", "email_kinds": ["ticket_issued"]}
    assert clerk.post("/settings/notifications", data=form).status_code == 403
    assert (
        clerk.post("/settings/notifications/secret", data={"csrf_token": form["csrf_token"]}).status_code
        == 403
    )
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    assert operator.get("/settings/notifications").status_code == 404
    assert (
        operator.post(
            "/settings/notifications", data={**form, "csrf_token": form_token(operator)}
        ).status_code
        == 404
    )
    assert admin.get(SETTINGS, expect=200)["email_to"] == []


def test_a_worker_that_dies_after_sending_leaves_the_delivery_to_be_sent_again_with_its_id(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    admin.call("PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200)
    _issue(members)
    start = dt.datetime.now(dt.UTC)
    (claimed,) = worker._claim(portal, start, 10)  # a worker claims it, sends it, and dies
    assert worker._send(portal, claimed) == "delivered"
    assert worker.run_once(portal, now=start + dt.timedelta(seconds=10)) == worker.Round()  # leased
    assert worker.run_once(portal, now=start + worker.LEASE + dt.timedelta(seconds=1)).delivered == 1
    first, second = receiver.requests  # at-least-once: the receiver deduplicates on the id
    assert first[0]["GoldTicket-Delivery"] == second[0]["GoldTicket-Delivery"] == claimed
    (row,) = _deliveries(portal)
    assert row.state == "delivered" and row.attempts == 2


# ------------------------------------------------------------------ the secret at rest
def _stored_secret(portal: Portal, member_id: str) -> str:
    with portal.database.session() as session:
        return session.get(NotifyPreference, member_id).webhook_secret  # type: ignore[union-attr]


def _store_secret(portal: Portal, member_id: str, value: str) -> None:
    with portal.database.session(immediate=True) as session:
        session.get(NotifyPreference, member_id).webhook_secret = value  # type: ignore[union-attr]


def test_the_webhook_secret_is_sealed_in_the_database_and_bound_to_its_member(
    members: Members, portal: Portal, admin: Api, receiver: _Receiver
) -> None:
    """A dump of the portal's database reveals no webhook secret (it is sealed with the data
    directory's key); a sealed secret copied to another member's row does not sign for it."""
    answer = admin.call(
        "PUT", SETTINGS, {"webhook_url": receiver.url, "webhook_kinds": ["ticket_issued"]}, expect=200
    )
    secret = answer["webhook_secret"]
    stored = _stored_secret(portal, "tier1")
    assert stored.startswith(sealed.MARK) and secret not in stored and secret[6:20] not in stored
    key = portal.platform.keystore.sealing_key()
    assert sealed.unseal(key, "tier1", stored) == secret
    with pytest.raises(sealed.SealError):
        sealed.unseal(key, "tier2", stored)  # bound to its member's row
    seal_file = portal.platform.settings.data_dir / "seal.key"
    assert seal_file.stat().st_mode & 0o077 == 0

    _issue(members)
    assert worker.run_once(portal).delivered == 1
    ((headers, body),) = receiver.requests
    assert erp_verifies(secret, headers, body)

    rotated = admin.call("POST", f"{SETTINGS}/webhook-secret", {}, expect=200)["webhook_secret"]
    assert rotated not in _stored_secret(portal, "tier1") and _stored_secret(portal, "tier1").startswith(
        sealed.MARK
    )

    # a secret the database holds in clear (written before sealing) is sealed when the portal opens
    _store_secret(portal, "tier1", rotated)
    assert sealed.seal_stored(portal) == 1 and sealed.seal_stored(portal) == 0
    assert sealed.unseal(key, "tier1", _stored_secret(portal, "tier1")) == rotated

    # a row that does not open fails its delivery (reported without the value), never sends unsigned
    _store_secret(portal, "tier1", sealed.seal(key, "tier2", rotated))
    _issue(members, "INV-2")
    assert worker.run_once(portal).retrying == 1
    assert len(receiver.requests) == 1
    (latest,) = [row for row in _deliveries(portal) if row.state == "pending"]
    assert "does not open" in (latest.last_error or "") and rotated not in (latest.last_error or "")
