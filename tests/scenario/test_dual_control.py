"""#20 maker-checker (经办/复核) on the ledger: above a member's threshold a covered operation is
only prepared by its maker (nothing moves), and runs when a second user of the same member, a
reviewer, signs the same intent with their own card. Attacks: the direct call, the maker
approving their own operation, a user of another member, a changed intent, a clerk who is no
reviewer, a closed or expired operation. Each is refused by the chaincode itself (the
services' own checks are stepped around by submitting the transaction directly)."""

from __future__ import annotations

import datetime as dt

import pytest
from support import PIN, TODAY, invoice, on, register

from goldticket import domain as d
from goldticket.services import cards, dual_control, financing, members, tickets

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)
THRESHOLD_FEN = 50_000_000  # 500,000.00
AMOUNT_FEN = 120_000_000  # 1,200,000.00, over it


@pytest.fixture
def core_admin(consortium):
    """The core's admin (its reviewer) and the setting: issue and settlement over 500,000.00."""
    p = consortium.platform
    admin = members.add_user(p, p.desk(), member_id="core", username="core.admin", role="admin", pin=PIN)
    dual_control.set_setting(p, admin, operations=["issue", "settle"], threshold_fen=THRESHOLD_FEN, pin=PIN)
    return admin


def _second_admin(p, core_admin):
    """Another admin of the core, their card approved by the first (the member has an admin)."""
    second = members.add_user(p, p.desk(), member_id="core", username="core.admin2", role="admin", pin=PIN)
    cards.approve_card(p, core_admin, p.cards.registry.active_card("core.admin2").serial, PIN)
    return second


def _issue_request(number: str = "INV-MC-1", amount_fen: int = AMOUNT_FEN) -> dict[str, object]:
    return {
        "payee_org_id": "tier1",
        "amount_fen": amount_fen,
        "maturity_date": MATURITY.isoformat(),
        "invoices": [invoice(number, amount_fen)],
        "commitment_sha256": "c0" * 32,  # its signed document (#21)
    }


def _issue(consortium, actor, amount_fen: int = AMOUNT_FEN, number: str = "INV-MC-1") -> dict:
    return tickets.issue_ticket(
        consortium.platform,
        actor,
        payee_org_id="tier1",
        amount_fen=amount_fen,
        maturity_date=MATURITY,
        invoices=[invoice(number, amount_fen)],
        pin=PIN,
    )


def _used_fen(consortium) -> int:
    lines = consortium.platform.evaluate("ListCreditLines", {"core_org_id": "core"})["items"]
    return sum(line["used_fen"] for line in lines)


def _approve_directly(p, actor, operation: dict, **changes: object) -> dict:
    request = {
        "operation_id": operation["id"],
        "function": operation["function"],
        "request": operation["request"],
    }
    request.update(changes)
    return p.submit(actor, "ApproveOperation", request, pin=PIN).result


def test_over_the_threshold_the_maker_prepares_and_a_reviewer_signs_it_into_effect(
    consortium, core_admin
) -> None:
    c, p = consortium, consortium.platform
    prepared = _issue(c, c.core)
    assert prepared["status"] == dual_control.PENDING_REVIEW
    operation = prepared["operation"]
    assert (operation["status"], operation["function"], operation["amount_fen"]) == (
        "PENDING",
        "IssueTicket",
        AMOUNT_FEN,
    )
    assert operation["maker"]["user"] == "core.clerk"
    assert operation["intent_sha256"] == d.intent_sha256("IssueTicket", operation["request"])
    # nothing moved: no ticket for the payee, no credit drawn
    assert p.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"] == []
    assert _used_fen(c) == 0
    assert [item["id"] for item in dual_control.to_review(p, core_admin)] == [operation["id"]]
    assert dual_control.to_review(p, c.core) == []  # the maker has nothing to review

    approved = dual_control.approve(p, core_admin, operation["id"], pin=PIN)
    ticket = approved["result"]
    assert (ticket["status"], ticket["amount_fen"], ticket["holder_org_id"]) == (
        "PENDING_ACCEPTANCE",
        AMOUNT_FEN,
        "tier1",
    )
    assert approved["operation"]["status"] == "APPROVED"
    assert approved["operation"]["checker"]["user"] == "core.admin"
    assert _used_fen(c) == AMOUNT_FEN
    history = p.evaluate("GetHistory", {"ticket_id": ticket["id"]})["items"]
    assert (history[0]["action"], history[0]["by_user"], history[0]["maker_user"]) == (
        "issue",
        "core.admin",
        "core.clerk",
    )
    assert history[0]["operation_id"] == operation["id"]
    # approved once: a second approval finds it closed
    with pytest.raises(d.StateConflictError, match="APPROVED, not PENDING"):
        _approve_directly(p, core_admin, operation)


def test_at_or_below_the_threshold_and_uncovered_operations_are_signed_alone(consortium, core_admin) -> None:
    c = consortium
    ticket = _issue(c, c.core, amount_fen=THRESHOLD_FEN)
    assert ticket["status"] == "PENDING_ACCEPTANCE"
    assert ticket["amount_fen"] == THRESHOLD_FEN


def test_the_direct_call_over_the_threshold_is_refused_by_the_chaincode(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    for actor in (c.core, core_admin):  # an admin, reviewer though they are, is no exception
        with pytest.raises(d.ForbiddenError, match="needs a reviewer"):
            p.submit(actor, "IssueTicket", _issue_request(), pin=PIN)
    assert p.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"] == []


def test_the_maker_cannot_approve_their_own_operation(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    operation = _issue(c, core_admin)["operation"]  # prepared by the admin, a reviewer
    with pytest.raises(d.ForbiddenError, match="maker of an operation does not review it"):
        _approve_directly(p, core_admin, operation)
    with pytest.raises(d.ForbiddenError, match="maker of an operation does not review it"):
        dual_control.approve(p, core_admin, operation["id"], pin=PIN)
    assert p.evaluate("GetOperation", {"operation_id": operation["id"]})["status"] == "PENDING"


def test_a_user_of_another_member_cannot_approve(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core2", name="第二核心", name_en="Core Two", role="core")
    other = members.add_user(p, p.desk(), member_id="core2", username="core2.admin", role="admin", pin=PIN)
    operation = _issue(c, c.core)["operation"]
    with pytest.raises(d.ForbiddenError, match="another member's"):
        _approve_directly(p, other, operation)
    assert p.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"] == []


def test_the_reviewer_must_sign_the_very_intent_prepared(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    operation = _issue(c, c.core)["operation"]
    changed = {**operation["request"], "payee_org_id": "tier2"}
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        _approve_directly(p, core_admin, operation, request=changed)
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        _approve_directly(p, core_admin, operation, function="OfferTransfer")
    assert p.evaluate("ListTickets", {"holder_org_id": "tier2"})["items"] == []
    assert p.evaluate("GetOperation", {"operation_id": operation["id"]})["status"] == "PENDING"


def test_a_clerk_who_is_no_reviewer_cannot_approve(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    operation = _issue(c, core_admin)["operation"]  # prepared by the admin; the clerk may not review
    with pytest.raises(d.ForbiddenError, match="is not a reviewer"):
        _approve_directly(p, c.core, operation)
    # named as a reviewer in the setting (a weakening, approved by a second admin), the clerk may
    second = _second_admin(p, core_admin)
    named = dual_control.set_setting(
        p,
        core_admin,
        operations=["issue", "settle"],
        threshold_fen=THRESHOLD_FEN,
        reviewers=["core.clerk"],
        pin=PIN,
    )
    dual_control.approve(p, second, named["operation"]["id"], pin=PIN)
    assert _approve_directly(p, c.core, operation)["operation"]["checker"]["user"] == "core.clerk"


def test_only_an_admin_sets_the_member_setting(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    request = {"operations": [], "threshold_fen": 0, "reviewers": []}
    with pytest.raises(d.ForbiddenError, match="only an admin"):
        p.submit(c.core, "SetDualControl", request, pin=PIN)
    assert dual_control.get_setting(p, "core")["operations"] == ["issue", "settle"]


def test_a_rejected_or_expired_operation_is_never_executed(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    first = _issue(c, c.core)["operation"]
    rejected = dual_control.reject(p, core_admin, first["id"], reason="wrong supplier", pin=PIN)
    assert (rejected["status"], rejected["reason"]) == ("REJECTED", "wrong supplier")
    with pytest.raises(d.StateConflictError, match="REJECTED, not PENDING"):
        _approve_directly(p, core_admin, first)
    second = _issue(c, c.core, number="INV-MC-2")["operation"]
    later = on(p, TODAY + dt.timedelta(days=8))
    with pytest.raises(d.RuleViolationError, match="expired"):
        _approve_directly(later, core_admin, second)
    assert p.evaluate("ListTickets", {"holder_org_id": "tier1"})["items"] == []
    assert _used_fen(c) == 0


def test_the_maker_learns_a_rule_refusal_when_preparing(consortium, core_admin) -> None:
    c = consortium
    with pytest.raises(d.RuleViolationError):
        tickets.issue_ticket(
            c.platform,
            c.core,
            payee_org_id="tier1",
            amount_fen=AMOUNT_FEN,
            maturity_date=TODAY - dt.timedelta(days=1),
            invoices=[invoice("INV-MC-3", AMOUNT_FEN)],
            pin=PIN,
        )
    assert dual_control.list_operations(c.platform, c.core) == []


def test_a_banks_financing_approval_over_its_threshold_needs_its_reviewer(consortium, issued_ticket) -> None:
    c, p = consortium, consortium.platform
    bank_admin = members.add_user(p, p.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN)
    dual_control.set_setting(
        p, bank_admin, operations=["approve_financing"], threshold_fen=THRESHOLD_FEN, pin=PIN
    )
    applied = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        amount_fen=60_000_000,
        max_annual_rate_bp=500,
        pin=PIN,
    )
    register(p, c.bank, applied["application_id"])  # #21: registered before the approval
    terms = {"application_id": applied["application_id"], "annual_rate_bp": 400, "value_date": TODAY}
    prepared = financing.approve_financing(p, c.bank, pin=PIN, **terms)
    assert prepared["status"] == dual_control.PENDING_REVIEW
    assert p.evaluate("GetApplication", {"application_id": applied["application_id"]})["status"] == "OPEN"
    approved = dual_control.approve(p, bank_admin, prepared["operation"]["id"], pin=PIN)
    assert approved["result"]["financed"]["amount_fen"] == 60_000_000
    assert approved["result"]["financed"]["holder_org_id"] == "bank"


def test_malformed_preparations_approvals_and_settings_are_refused(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    with pytest.raises(d.InvalidInputError, match="are prepared for review"):
        p.submit(
            c.core, "PrepareOperation", {"function": "CancelTicket", "request": {"ticket_id": "TK1"}}, pin=PIN
        )
    with pytest.raises(d.InvalidInputError, match="request must be an object"):
        p.submit(c.core, "PrepareOperation", {"function": "IssueTicket", "request": "everything"}, pin=PIN)
    operation = _issue(c, c.core)["operation"]
    with pytest.raises(d.InvalidInputError, match="states the operation's function and request"):
        _approve_directly(p, core_admin, operation, request=None)
    # the operator's own member has no maker-checker setting of its own to set
    operator, pin = p.actor("operator"), p.settings.operator_pin
    with pytest.raises(d.ForbiddenError, match="only a core or supplier or bank member"):
        p.submit(operator, "SetDualControl", {"operations": [], "threshold_fen": 0}, pin=pin)
    assert p.evaluate("GetOperation", {"operation_id": operation["id"]})["status"] == "PENDING"


def test_before_the_pin_the_preparation_is_rehearsed_and_the_direct_call_refused(
    consortium, core_admin
) -> None:
    p = consortium.platform
    serial = p.cards.registry.active_card("core.clerk").serial
    identity = p.signing.identity(serial)
    creator = {"msp_id": identity.msp_id, "certificate_pem": identity.certificate_pem.decode()}
    height = p.ledger.height()
    preparation = {"function": "IssueTicket", "request": _issue_request()}
    answer = p.evaluate(
        "Rehearse", {"function": "PrepareOperation", "request": preparation, "creator": creator}
    )
    assert answer == {"ok": True, "function": "PrepareOperation"}
    late = {**_issue_request(), "maturity_date": (TODAY - dt.timedelta(days=1)).isoformat()}
    with pytest.raises(d.RuleViolationError):
        p.evaluate(
            "Rehearse",
            {"function": "PrepareOperation", "request": {**preparation, "request": late}, "creator": creator},
        )
    with pytest.raises(d.ForbiddenError, match="needs a reviewer"):
        p.evaluate("Rehearse", {"function": "IssueTicket", "request": _issue_request(), "creator": creator})
    assert p.ledger.height() == height
    assert dual_control.list_operations(p, consortium.core) == []


WEAKENINGS = {
    "off": {"operations": [], "threshold_fen": THRESHOLD_FEN, "reviewers": []},
    "an operation removed": {"operations": ["issue"], "threshold_fen": THRESHOLD_FEN, "reviewers": []},
    "a higher threshold": {"operations": ["issue", "settle"], "threshold_fen": AMOUNT_FEN, "reviewers": []},
    "a reviewer added": {
        "operations": ["issue", "settle"],
        "threshold_fen": THRESHOLD_FEN,
        "reviewers": ["core.clerk"],
    },
}


@pytest.mark.parametrize("weakening", sorted(WEAKENINGS))
def test_one_admin_alone_cannot_weaken_the_setting(consortium, core_admin, weakening: str) -> None:
    """Attack: the admin signs SetDualControl directly (stepping around the services, which
    prepare it): the chaincode refuses it, and the setting is unchanged."""
    p = consortium.platform
    before = dual_control.get_setting(p, "core")
    with pytest.raises(d.ForbiddenError, match="weakening the maker-checker setting"):
        p.submit(core_admin, "SetDualControl", WEAKENINGS[weakening], pin=PIN)
    after = dual_control.get_setting(p, "core")
    assert (after["operations"], after["threshold_fen"], after["reviewers"]) == (
        ["issue", "settle"],
        THRESHOLD_FEN,
        [],
    )
    assert after == before


def test_a_weakening_is_prepared_and_takes_effect_when_another_admin_approves(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    second = _second_admin(p, core_admin)
    prepared = dual_control.set_setting(p, core_admin, operations=[], threshold_fen=0, pin=PIN)
    assert prepared["status"] == dual_control.PENDING_REVIEW
    operation = prepared["operation"]
    assert (operation["function"], operation["operation"], operation["amount_fen"]) == (
        "SetDualControl",
        "dual_control",
        None,
    )
    assert dual_control.get_setting(p, "core")["operations"] == ["issue", "settle"]  # still on
    # the maker may not approve it, nor a clerk who is no reviewer; the second admin may
    with pytest.raises(d.ForbiddenError, match="maker of an operation does not review it"):
        _approve_directly(p, core_admin, operation)
    with pytest.raises(d.ForbiddenError, match="is not a reviewer"):
        _approve_directly(p, c.core, operation)
    assert [item["id"] for item in dual_control.to_review(p, second)] == [operation["id"]]
    approved = dual_control.approve(p, second, operation["id"], pin=PIN)
    setting = dual_control.get_setting(p, "core")
    assert setting["operations"] == []
    assert (setting["set_by"], setting["approved_by"], setting["operation_id"]) == (
        "core.admin",
        "core.admin2",
        operation["id"],
    )
    assert approved["operation"]["status"] == "APPROVED"
    # off now: turning it on again, and strengthening it, are signed alone
    on_again = dual_control.set_setting(
        p, core_admin, operations=["issue"], threshold_fen=THRESHOLD_FEN, pin=PIN
    )
    assert on_again["operations"] == ["issue"]
    stronger = {"operations": ["issue", "transfer"], "threshold_fen": 1_000, "reviewers": []}
    assert p.submit(core_admin, "SetDualControl", stronger, pin=PIN).result["threshold_fen"] == 1_000


def test_a_named_reviewer_approves_a_weakening_but_no_clerk_prepares_one(consortium, core_admin) -> None:
    c, p = consortium, consortium.platform
    second = _second_admin(p, core_admin)
    named = dual_control.set_setting(p, core_admin, **WEAKENINGS["a reviewer added"], pin=PIN)
    dual_control.approve(p, second, named["operation"]["id"], pin=PIN)
    # the clerk, a reviewer now, may not prepare a change of the setting: only an admin makes it
    with pytest.raises(d.ForbiddenError, match="only an admin"):
        p.submit(
            c.core, "PrepareOperation", {"function": "SetDualControl", "request": WEAKENINGS["off"]}, pin=PIN
        )
    # but approves the admin's: a user who may review, not the maker
    prepared = dual_control.set_setting(p, core_admin, **WEAKENINGS["off"], pin=PIN)
    approved = _approve_directly(p, c.core, prepared["operation"])
    assert approved["operation"]["checker"]["user"] == "core.clerk"
    assert dual_control.get_setting(p, "core")["operations"] == []


def test_an_approval_of_one_function_does_not_run_another(consortium, core_admin) -> None:
    """A prepared issue's approval cannot be made to set the member's setting, and the reverse:
    the operation's function is the one its intent names (hash compared)."""
    c, p = consortium, consortium.platform
    second = _second_admin(p, core_admin)
    issue = _issue(c, c.core)["operation"]
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        _approve_directly(p, second, issue, function="SetDualControl", request=WEAKENINGS["off"])
    assert dual_control.get_setting(p, "core")["operations"] == ["issue", "settle"]


PRIVATE_RATE_BP = 417  # no other figure of the test is equal to it


def _envelopes(p, start: int, function: str) -> list[bytes]:
    """The committed envelopes of ``function`` on this test's chaincode since block ``start``."""
    from fabric_protos.common import common_pb2

    from goldticket import messages as m

    found, height = [], p.ledger.height()
    for block in p.ledger.blocks(start):
        if block.number >= height:
            break
        for raw, code in zip(block.envelopes, block.validation_codes, strict=True):
            try:
                tx = m.decode_transaction(bytes(common_pb2.Envelope.FromString(raw).payload))
            except m.MessageError:
                continue
            if code == 0 and tx.chaincode == p.ledger.chaincode and tx.function == function:
                found.append(bytes(raw))
    return found


def test_a_prepared_financing_approval_keeps_its_rate_private(consortium, issued_ticket) -> None:
    """The bank clerk's rate goes to the bank's collection, beside the prepared request; the
    channel has the operation with its salted intent hash only; the reviewer of the same bank
    reads the rate there and restates it privately; the approval's terms are private as a direct
    approval's are. Attacks: the rate in the public request, another rate restated."""
    c, p = consortium, consortium.platform
    bank_admin = members.add_user(p, p.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN)
    dual_control.set_setting(
        p, bank_admin, operations=["approve_financing"], threshold_fen=THRESHOLD_FEN, pin=PIN
    )
    applied = financing.apply_financing(
        p, c.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=60_000_000,
        max_annual_rate_bp=500, pin=PIN,
    )  # fmt: skip
    application_id = applied["application_id"]
    register(p, c.bank, application_id)
    start = p.ledger.height()
    prepared = financing.approve_financing(
        p, c.bank, application_id=application_id, annual_rate_bp=PRIVATE_RATE_BP, value_date=TODAY, pin=PIN
    )
    operation = prepared["operation"]
    assert "annual_rate_bp" not in operation["request"] and operation["private"] == "terms-BankMSP"
    whole = {**operation["request"], "annual_rate_bp": PRIVATE_RATE_BP}
    assert operation["intent_sha256"] != d.intent_sha256("ApproveFinancing", whole)  # salted: not guessed
    (raw,) = _envelopes(p, start, "PrepareOperation")
    assert b'"annual_rate_bp"' not in raw and b'"intent_salt"' not in raw

    # the reviewer reads the rate from the bank's collection; the supplier cannot read the operation
    shown = dual_control.get_operation(p, bank_admin, operation["id"])
    assert shown["private_request"]["annual_rate_bp"] == PRIVATE_RATE_BP
    with pytest.raises(d.NotFoundError):
        dual_control.get_operation(p, c.tier1, operation["id"])

    # attacks: the rate in the public request; another rate restated by the reviewer
    with pytest.raises(d.InvalidInputError, match="travels privately"):
        p.submit(c.bank, "PrepareOperation", {"function": "ApproveFinancing", "request": whole}, pin=PIN)
    salt = shown["private_request"]["intent_salt"]
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        _approve_directly(p, bank_admin, operation, annual_rate_bp=PRIVATE_RATE_BP - 1, intent_salt=salt)
    with pytest.raises(d.ForbiddenError, match="intent signed differs"):
        _approve_directly(p, bank_admin, operation, annual_rate_bp=PRIVATE_RATE_BP, intent_salt="0" * 32)

    approved = dual_control.approve(p, bank_admin, operation["id"], pin=PIN)
    assert approved["result"]["terms"] == "terms-BankMSP"  # private, as a direct approval's
    (raw,) = _envelopes(p, start, "ApproveOperation")
    assert b'"annual_rate_bp"' not in raw and b'"intent_salt"' not in raw
    for party in (c.bank, c.tier1):
        assert financing.financing_terms(p, party, application_id)["annual_rate_bp"] == PRIVATE_RATE_BP
    assert p.evaluate("GetApplication", {"application_id": application_id})["quote"] is None
