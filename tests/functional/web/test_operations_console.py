"""The operations console on the embedded ledger through Flask's test client: operator only
(403 for every other member's users, on the page and on its JSON), the figures moving with real
writes through a real signing gateway, each alert raised by the condition it names, nothing from
another site, and the gateway's metrics free of serials and PINs."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import pytest
from apiclient import MATURITY, MEMBERS, Members, invoice
from support import OPERATOR_PASSWORD, PIN
from test_portal_pages import portal_login

from goldticket.services.portal import Portal
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import SigningError

WRONG_PIN = "97531864"


def status(browser: Any) -> dict[str, Any]:
    answer = browser.get("/operations/status.json")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_json()  # type: ignore[no-any-return]


def test_only_the_operator_sees_the_console(app: Any, members: Members) -> None:
    anonymous = app.test_client()
    for path in ("/operations", "/operations/status.json"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    for _, role, username in MEMBERS:
        browser = portal_login(app, username)
        for path in ("/operations", "/operations/status.json"):
            answer = browser.get(path)
            assert answer.status_code == 403, (role, path, answer.status_code)
        assert "/operations" not in browser.get("/").get_data(as_text=True), role
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    assert 'href="/operations"' in operator.get("/").get_data(as_text=True)
    page = operator.get("/operations")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    # every script is the portal's own: nothing from a CDN, the page works offline
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(re.search(r'src="/static/portal/[a-z]+\.js"', tag) for tag in scripts), scripts
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert 'data-alert="none"' in html and "<svg" in html, re.findall(r"data-alert=\"[^\"]*\"[^<]*", html)


def test_the_figures_follow_real_writes(app: Any, members: Members, portal: Portal) -> None:
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    before = status(operator)["status"]
    assert before["ledger"] == "local" and before["nodes"] == [] and before["alerts"] == []
    for number in range(3):
        members["core"].post(
            "/tickets",
            {
                "payee_org_id": "tier1",
                "amount_fen": 1_000_000 + number,
                "maturity_date": MATURITY.isoformat(),
                "invoices": [invoice(f"INV-OPS-{number}", 1_000_000 + number)],
                "pin": PIN,
            },
            expect=201,
        )
    members["core"].post("/tickets", {"payee_org_id": "tier1", "pin": WRONG_PIN}, expect=None)
    time.sleep(5.1)  # the next sampling slot
    after = status(operator)["status"]
    assert after["chain"]["height"] >= before["chain"]["height"] + 3
    assert after["chain"]["transactions"] >= 3 and after["chain"]["tx_per_second"] > 0
    assert after["gateway"]["mode"] == "gateway" and after["gateway"]["up"]
    assert after["gateway"]["signatures_hour"] >= 6  # a proposal and a transaction per write
    assert after["web"]["requests_hour"] >= 4 and after["web"]["4xx_hour"] >= 1
    assert after["web"]["p95_seconds"] is not None
    assert after["chain"]["last_block_age"] is not None and after["chain"]["last_block_age"] < 600
    assert len(after["series"]["tx_per_second"]) >= 1 and after["samples"] >= 2


def test_each_alert_is_raised_by_its_condition(app: Any, members: Members, portal: Portal) -> None:
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    assert status(operator)["status"]["alerts"] == []
    settings = portal.platform.settings
    # the read model stops following (FOLLOW_SECONDS=0 here: nothing projects but catch_up)
    portal.platform.settings = dataclasses.replace(
        settings, ops_follower_lag_blocks=0, ops_block_age_minutes=0.01
    )
    members["core"].post(
        "/tickets",
        {
            "payee_org_id": "tier1",
            "amount_fen": 5_000_000,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [invoice("INV-OPS-LAG", 5_000_000)],
            "pin": PIN,
        },
        expect=201,
    )
    real_gateway = portal.platform.gateway
    portal.platform.gateway = GatewayClient("http://127.0.0.1:9", "a secret of twenty chars")
    try:
        time.sleep(5.1)
        shown = status(operator)
    finally:
        portal.platform.gateway = real_gateway
        portal.platform.settings = settings
    codes = {alert["code"] for alert in shown["status"]["alerts"]}
    assert {"gateway_down", "block_old"} <= codes, codes
    if shown["status"]["follower"]["lag"]:
        assert "follower_lag" in codes
    for code in codes:
        assert f'data-alert="{code}"' in shown["panel"]
    portal.follower.catch_up()
    time.sleep(5.1)
    assert status(operator)["status"]["alerts"] == []


def test_the_gateway_counts_refusals_and_locked_cards_without_naming_them(
    app: Any, members: Members, portal: Portal
) -> None:
    gateway = portal.platform.gateway
    assert gateway is not None
    core = members["core"]
    codes = []
    for number in range(10):  # wrong PINs until the card locks
        answer = core.post(
            "/tickets",
            {
                "payee_org_id": "tier1",
                "amount_fen": 1_000_000,
                "maturity_date": MATURITY.isoformat(),
                "invoices": [invoice(f"INV-WRONG-{number}", 1_000_000)],
                "pin": WRONG_PIN,
            },
        )
        codes.append(core.last.status_code)
        if answer.get("error") == "card_locked":
            break
    assert codes[-1] == 423 and 403 in codes, codes
    text = gateway.metrics_text()
    assert re.search(r'goldticket_signer_refusals_total\{code="wrong_pin"\} [1-9]', text), text[-800:]
    assert re.search(r'goldticket_signer_refusals_total\{code="card_locked"\} [1-9]', text)
    assert re.search(r"goldticket_signer_locked_cards 1\.0", text)
    card = members.cards["core"]
    assert card not in text and WRONG_PIN not in text and PIN not in text
    with pytest.raises(SigningError, match="HTTP 401"):
        GatewayClient(gateway.url, "not the deployment secret").metrics_text()
    operator = portal_login(app, "operator", OPERATOR_PASSWORD)
    shown = status(operator)
    assert shown["status"]["gateway"]["locked_cards"] == 1
    assert 'data-testid="locked-cards">1<' in shown["panel"]


def test_the_web_service_passes_the_gateways_metrics_to_prometheus(
    app: Any, members: Members, portal: Portal
) -> None:
    anonymous = app.test_client()
    answer = anonymous.get("/metrics/signer")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert re.search(r'goldticket_signer_signatures_total\{purpose="proposal"\} [1-9]', text), text[-500:]
    assert "goldticket_signer_locked_cards" in text  # (this test's gateway shares the process: more besides)
    real_gateway = portal.platform.gateway
    portal.platform.gateway = GatewayClient("http://127.0.0.1:9", "a secret of twenty chars")
    try:
        down = anonymous.get("/metrics/signer")
    finally:
        portal.platform.gateway = None  # the cards sign in this process: its own figures
        in_process = anonymous.get("/metrics/signer")
        portal.platform.gateway = real_gateway
    assert down.status_code == 503 and down.get_json()["error"] == "gateway_unavailable"
    assert in_process.status_code == 200
    shown = in_process.get_data(as_text=True)
    assert "goldticket_signer_locked_cards" in shown and "python_gc" not in shown
