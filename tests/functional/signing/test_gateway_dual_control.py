"""#20 maker-checker at the signing gateway: the reviewer's card signs an approval only if its
write set is the operation closed as APPROVED with the intent's SHA-256 and otherwise exactly
what the prepared function may write for that intent; the maker's card signs a preparation only
if it records that intent and writes nothing else."""

from __future__ import annotations

import pytest
from support import PIN, TODAY, invoice, register
from test_gateway_attacks import add, drop, endorsed, first, on_writes, refused_then_genuine, set_field

from goldticket import domain as d
from goldticket.services import cards, dual_control, financing, members

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]
AMOUNT_FEN = 120_000_000


@pytest.fixture
def prepared(consortium):
    p = consortium.platform
    admin = members.add_user(p, p.desk(), member_id="core", username="core.admin", role="admin", pin=PIN)
    dual_control.set_setting(p, admin, operations=["issue"], threshold_fen=1_000, pin=PIN)
    request = {
        "payee_org_id": "tier1",
        "amount_fen": AMOUNT_FEN,
        "maturity_date": (TODAY.replace(month=2, year=TODAY.year + 1)).isoformat(),
        "invoices": [invoice("INV-GW-MC", AMOUNT_FEN)],
    }
    return admin, request


def test_an_approval_must_run_the_prepared_intent_and_nothing_else(consortium, prepared):
    p = consortium.platform
    admin, request = prepared
    cc = p.settings.chaincode
    operation = p.submit(
        consortium.core, "PrepareOperation", {"function": "IssueTicket", "request": request}, pin=PIN
    ).result
    approval = {"operation_id": operation["id"], "function": "IssueTicket", "request": request}
    serial, intent, genuine = endorsed(p, admin, "ApproveOperation", approval)

    def retarget(writes):
        first(writes, "ticket")["value"]["holder_org_id"] = "tier2"

    refused_then_genuine(
        p,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("operation", status="PENDING"), cc), "operation written has status"),
            (
                on_writes(set_field("operation", intent_sha256="0" * 64), cc),
                "operation written has intent_sha256",
            ),
            (on_writes(drop("operation"), cc), "must write exactly the operation"),
            (on_writes(set_field("ticket", amount_fen=AMOUNT_FEN + 1), cc), "ticket written has amount_fen"),
            (on_writes(retarget, cc), "ticket written has holder_org_id"),
            (on_writes(add("member", ("core",), {"id": "core"}), cc), "may not write member"),
        ],
    )


def test_a_preparation_records_the_intent_and_changes_nothing(consortium, prepared):
    p = consortium.platform
    _, request = prepared
    cc = p.settings.chaincode
    preparation = {"function": "IssueTicket", "request": request}
    serial, intent, genuine = endorsed(p, consortium.core, "PrepareOperation", preparation)
    assert first_operation_hash(genuine) == d.intent_sha256("IssueTicket", request)
    refused_then_genuine(
        p,
        serial,
        intent,
        genuine,
        [
            (
                on_writes(set_field("operation", intent_sha256="0" * 64), cc),
                "operation written has intent_sha256",
            ),
            (on_writes(set_field("operation", status="APPROVED"), cc), "operation written has status"),
            (
                on_writes(add("ticket", ("TK00000000000000000000",), {"id": "TK00000000000000000000"}), cc),
                "may not write ticket",
            ),
        ],
    )


def first_operation_hash(payload: bytes) -> str:
    from goldticket import messages as m
    from goldticket.signing.intents import _writes

    writes = _writes(m.decode_transaction(payload))
    (value,) = [value for (kind, _), value in writes.items() if kind == "operation"]
    return str(value["intent_sha256"])


def test_an_approved_weakening_writes_exactly_the_setting_prepared(consortium, prepared):
    """A weakening of the setting is approved by a second admin (#20): the gateway signs it only
    if the member record written holds the setting the prepared intent states."""
    p = consortium.platform
    admin, _ = prepared
    cc = p.settings.chaincode
    members.add_user(p, p.desk(), member_id="core", username="core.admin2", role="admin", pin=PIN)
    cards.approve_card(p, admin, p.cards.registry.active_card("core.admin2").serial, PIN)
    second = p.actor("core.admin2")
    off = {"operations": [], "threshold_fen": 1_000, "reviewers": []}
    operation = dual_control.set_setting(p, admin, **off, pin=PIN)["operation"]
    approval = {"operation_id": operation["id"], "function": "SetDualControl", "request": off}
    serial, intent, genuine = endorsed(p, second, "ApproveOperation", approval)

    def still_on(writes):
        first(writes, "member")["value"]["dual_control"]["operations"] = ["issue"]

    refused_then_genuine(
        p,
        serial,
        intent,
        genuine,
        [
            (on_writes(still_on, cc), "setting written has operations"),
            (on_writes(set_field("operation", status="PENDING"), cc), "operation written has status"),
            (
                on_writes(add("ticket", ("TK00000000000000000000",), {"id": "TK00000000000000000000"}), cc),
                "may not write ticket",
            ),
        ],
    )


def test_a_private_preparation_writes_its_rate_to_the_makers_collection_only(consortium, issued_ticket):
    """A financing approval prepared with its rate beside the request (#20): the gateway signs
    the preparation only if the operation records the salted hash of the whole intent and the
    rate goes, once, to the maker's own terms collection under that operation."""
    c, p = consortium, consortium.platform
    cc = p.settings.chaincode
    admin = members.add_user(p, p.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN)
    dual_control.set_setting(p, admin, operations=["approve_financing"], threshold_fen=1_000, pin=PIN)
    applied = financing.apply_financing(
        p, c.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=60_000_000,
        max_annual_rate_bp=500, pin=PIN,
    )  # fmt: skip
    register(p, c.bank, applied["application_id"])
    public = {
        "application_id": applied["application_id"],
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 500,
    }
    preparation = {
        "function": "ApproveFinancing",
        "request": public,
        "annual_rate_bp": 400,
        "terms_salt": "b" * 32,
        "intent_salt": "a" * 32,
    }
    serial, intent, genuine = endorsed(p, c.bank, "PrepareOperation", preparation)
    refused_then_genuine(
        p,
        serial,
        intent,
        genuine,
        [
            (
                on_writes(
                    set_field(
                        "operation",
                        intent_sha256=d.intent_sha256("ApproveFinancing", {**public, "annual_rate_bp": 400}),
                    ),
                    cc,
                ),
                "operation written has intent_sha256",
            ),
            (
                on_writes(set_field("operation", private="terms-OperatorMSP"), cc),
                "must write exactly its private fields to the maker's collection",
            ),
        ],
    )


def test_a_reviewers_approval_writes_the_countersignature_their_card_made(consortium, issued_ticket):
    """#21 under maker-checker: the reviewer who commits a financing approval states the
    countersigned assignment's hash beside the prepared intent (it is their card's document, not
    the maker's); the intent's hash is the prepared one, and the application written must carry
    that countersignature's hash, not another, not none."""
    import hashlib

    c, p = consortium, consortium.platform
    cc = p.settings.chaincode
    admin = members.add_user(p, p.desk(), member_id="bank", username="bank.admin", role="admin", pin=PIN)
    dual_control.set_setting(p, admin, operations=["approve_financing"], threshold_fen=1_000, pin=PIN)
    applied = financing.apply_financing(
        p, c.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=60_000_000,
        max_annual_rate_bp=500, pin=PIN,
    )  # fmt: skip
    register(p, c.bank, applied["application_id"])
    public = {
        "application_id": applied["application_id"],
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 500,
    }
    private = {"annual_rate_bp": 400, "terms_salt": "b" * 32, "intent_salt": "a" * 32}
    operation = p.submit(
        c.bank, "PrepareOperation", {"function": "ApproveFinancing", "request": public, **private}, pin=PIN
    ).result
    approval = {
        "operation_id": operation["id"],
        "function": "ApproveFinancing",
        "request": public,
        **private,
        "countersigned_assignment_sha256": hashlib.sha256(b"countersigned by the reviewer").hexdigest(),
    }
    serial, intent, genuine = endorsed(p, admin, "ApproveOperation", approval)
    other = hashlib.sha256(b"another countersignature").hexdigest()
    refused_then_genuine(
        p,
        serial,
        intent,
        genuine,
        [
            (
                on_writes(set_field("application", countersigned_assignment_sha256=other), cc),
                "countersigned assignment",
            ),
            (
                on_writes(
                    lambda w: first(w, "application")["value"].pop("countersigned_assignment_sha256"), cc
                ),
                "countersigned assignment",
            ),
        ],
    )
