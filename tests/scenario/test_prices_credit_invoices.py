"""Issue #17, points 3, 6 and 10, as an attacker would try them: a bank approving above the
rate the holder signed, a core enterprise drawing on another core's invoice, and a bank
putting a credit line on a core that never asked for it. Each attack is refused with a clear
error and changes nothing on the ledger; they run on whichever ledger the scenario uses."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, TODAY, invoice, register

from goldticket.domain import MAX_RATE_BP, DomainError
from goldticket.services import credit, financing, members, tickets

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)


def _refused(p, code: str, fn, *args, match: str | None = None, **kwargs) -> DomainError:
    height = p.ledger.height()
    with pytest.raises(DomainError, match=match) as error:
        fn(*args, **kwargs)
    assert error.value.code == code, error.value
    assert p.ledger.height() == height
    return error.value


# -- 3. The holder bounds the price --------------------------------------------------------


def test_a_bank_cannot_approve_above_the_rate_the_holder_signed(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    applied = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        amount_fen=issued_ticket["amount_fen"],
        max_annual_rate_bp=350,
        pin=PIN,
    )
    application = p.evaluate("GetApplication", {"application_id": applied["application_id"]})
    assert application["max_annual_rate_bp"] == 350
    _refused(
        p,
        "rule_violation",
        financing.approve_financing,
        p,
        c.bank,
        application_id=applied["application_id"],
        annual_rate_bp=MAX_RATE_BP,
        value_date=TODAY,
        pin=PIN,
        match="3.50 %",
    )
    # Nor by a request of its own that names a higher bound than the holder signed.
    request = {
        "application_id": applied["application_id"],
        "annual_rate_bp": 9_000,
        "max_annual_rate_bp": 9_000,
        "value_date": TODAY.isoformat(),
    }
    _refused(p, "conflict", p.submit, c.bank, "ApproveFinancing", request, pin=PIN)
    # Nor above the bound it states truly: the chaincode refuses, whatever the services check.
    _refused(
        p,
        "rule_violation",
        p.submit,
        c.bank,
        "ApproveFinancing",
        {**request, "max_annual_rate_bp": 350},
        pin=PIN,
    )
    # At the bound it goes through (once registered, #21).
    register(p, c.bank, applied["application_id"])
    approved = financing.approve_financing(
        p, c.bank, application_id=applied["application_id"], annual_rate_bp=350, value_date=TODAY, pin=PIN
    )
    assert approved["annual_rate_bp"] == 350 and approved["proceeds_fen"] > 0


def test_an_application_without_a_signed_bound_is_refused(consortium, issued_ticket):
    c, p = consortium, consortium.platform
    request = {"ticket_id": issued_ticket["id"], "bank_org_id": "bank", "amount_fen": 100}
    _refused(p, "invalid_input", p.submit, c.tier1, "ApplyFinancing", request, pin=PIN)
    for bound in (MAX_RATE_BP + 1, -1, "350", 3.5, True):
        _refused(
            p,
            "invalid_input",
            p.submit,
            c.tier1,
            "ApplyFinancing",
            {**request, "max_annual_rate_bp": bound},
            pin=PIN,
        )


# -- 6. An invoice belongs to the core that first used it ------------------------------------


def test_another_core_cannot_draw_on_a_cores_invoice(consortium):
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core2", name="第二核心", role="core")
    core2 = members.add_user(p, p.desk(), member_id="core2", username="core2.clerk", pin=PIN)
    line = credit.grant_credit_line(p, c.bank, core_org_id="core2", limit_fen=10_000_000, pin=PIN)
    credit.accept_credit_line(p, core2, credit_line_id=line["id"], pin=PIN)
    document = invoice("INV-OWNED", 1_000_000)
    tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=400_000,
        maturity_date=MATURITY,
        invoices=[document],
        pin=PIN,
    )
    error = _refused(
        p,
        "rule_violation",
        tickets.issue_ticket,
        p,
        core2,
        payee_org_id="tier2",
        amount_fen=600_000,
        maturity_date=MATURITY,
        invoices=[document],
        pin=PIN,
    )
    for other in ("华东重工", "East China", "4,000.00", "6,000.00", "'core'", "core)", "core,"):
        assert other not in str(error), error  # names no other member's data
    # The owner still draws the rest of it.
    tickets.issue_ticket(
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=600_000,
        maturity_date=MATURITY,
        invoices=[document],
        pin=PIN,
    )


# -- 10. Credit lines: a bank offers, the core accepts -----------------------------------------


def test_an_offered_credit_line_is_not_drawn_until_the_core_accepts(consortium):
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core3", name="第三核心", role="core")
    core3 = members.add_user(p, p.desk(), member_id="core3", username="core3.clerk", pin=PIN)
    offered = credit.grant_credit_line(p, c.factor, core_org_id="core3", limit_fen=5_000_000, pin=PIN)
    assert offered["status"] == "offered"
    issue = {
        "payee_org_id": "tier1",
        "amount_fen": 100_000,
        "maturity_date": MATURITY,
        "invoices": [invoice("C3-1", 100_000)],
        "pin": PIN,
    }
    _refused(p, "rule_violation", tickets.issue_ticket, p, core3, **issue)
    # Only that core accepts it: not the bank, not another core.
    for actor in (c.factor, c.core, c.bank):
        with pytest.raises(DomainError):
            credit.accept_credit_line(p, actor, credit_line_id=offered["id"], pin=PIN)
    accepted = credit.accept_credit_line(p, core3, credit_line_id=offered["id"], pin=PIN)
    assert accepted["status"] == "active"
    _refused(p, "conflict", credit.accept_credit_line, p, core3, credit_line_id=offered["id"], pin=PIN)
    ticket = tickets.issue_ticket(p, core3, **issue)
    assert ticket["credit_line_id"] == offered["id"]


def test_a_core_declines_a_line_and_chooses_which_line_a_ticket_draws_on(consortium):
    c, p = consortium, consortium.platform
    declined = credit.grant_credit_line(p, c.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)
    assert (
        credit.decline_credit_line(p, c.core, credit_line_id=declined["id"], pin=PIN)["status"] == "declined"
    )
    _refused(p, "conflict", credit.accept_credit_line, p, c.core, credit_line_id=declined["id"], pin=PIN)
    second = credit.grant_credit_line(p, c.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)
    credit.accept_credit_line(p, c.core, credit_line_id=second["id"], pin=PIN)
    issue = {"payee_org_id": "tier1", "amount_fen": 100_000, "maturity_date": MATURITY, "pin": PIN}
    chosen = tickets.issue_ticket(
        p, c.core, invoices=[invoice("CH-1", 100_000)], credit_line_id=second["id"], **issue
    )
    assert chosen["credit_line_id"] == second["id"]
    _refused(
        p,
        "rule_violation",
        tickets.issue_ticket,
        p,
        c.core,
        invoices=[invoice("CH-2", 100_000)],
        credit_line_id=declined["id"],
        **issue,
    )


def test_a_bank_sees_only_its_own_lines_and_a_core_its_own(consortium):
    c, p = consortium, consortium.platform
    credit.grant_credit_line(p, c.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)
    assert {line["bank_org_id"] for line in credit.list_credit_lines(p, c.bank)} == {"bank"}
    assert {line["bank_org_id"] for line in credit.list_credit_lines(p, c.factor)} == {"factor"}
    assert len(credit.list_credit_lines(p, c.core)) == 2
    assert credit.list_credit_lines(p, c.tier1) == []


def test_the_ledger_lists_a_banks_own_lines_and_a_cores_own(consortium):
    """The chaincode's ListCreditLines by the signer's member, below the services' filter."""
    from goldticket.messages import Identity
    from goldticket.settings import ROLE_MSP
    from goldticket.signing import SoftwareSigner, new_member_key

    c, p = consortium, consortium.platform

    def software_identity(_, member_id: str, username: str) -> SoftwareSigner:
        ca = p.member_ca(ROLE_MSP[p.evaluate("GetMember", {"id": member_id})["role"]])
        key = new_member_key()
        attributes = {"member": member_id, "role": "clerk", "user": username}
        cert = ca.issue(key.public_key(), common_name=username, attributes=attributes)
        request = {"msp_id": ca.msp_id, "certificate_pem": cert.decode()}
        p.submit(p.actor("operator"), "RegisterIdentity", request, pin=p.settings.operator_pin)
        return SoftwareSigner(key, Identity(ca.msp_id, cert))

    credit.grant_credit_line(p, c.factor, core_org_id="core", limit_fen=5_000_000, pin=PIN)

    def seen_by(member_id: str) -> set[str]:
        signer = software_identity(c, member_id, f"{member_id}.lister")
        return {line["bank_org_id"] for line in p.contract.evaluate(signer, "ListCreditLines", {})["items"]}

    assert seen_by("bank") == {"bank"}
    assert seen_by("factor") == {"factor"}
    assert seen_by("core") == {"bank", "factor"}
    assert seen_by("tier1") == set()


def test_a_core_cannot_draw_on_another_cores_line_by_naming_it(consortium):
    """The line a ticket names is looked up among the issuer's own lines only: another core's
    accepted line is not found, and stays untouched."""
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core4", name="第四核心", role="core")
    core4 = members.add_user(p, p.desk(), member_id="core4", username="core4.clerk", pin=PIN)
    theirs = credit.grant_credit_line(p, c.factor, core_org_id="core4", limit_fen=5_000_000, pin=PIN)
    credit.accept_credit_line(p, core4, credit_line_id=theirs["id"], pin=PIN)
    _refused(
        p,
        "not_found",
        tickets.issue_ticket,
        p,
        c.core,
        payee_org_id="tier1",
        amount_fen=100_000,
        maturity_date=MATURITY,
        invoices=[invoice("NL-1", 100_000)],
        credit_line_id=theirs["id"],
        pin=PIN,
    )
    (line,) = [line for line in credit.list_credit_lines(p, core4) if line["id"] == theirs["id"]]
    assert line["used_fen"] == 0
