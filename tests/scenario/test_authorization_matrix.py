"""The chaincode's authorization matrix: every write transaction, simulated (endorsed, never
committed) against one prepared state, signed by each of: the operator's admin and a clerk, the
issuing core and a second core, the holder and another supplier, a supplier's admin, the bank
that was asked and a second bank, a revoked identity, a suspended one (a card reported lost), one never registered, and a registered
key under a second certificate that claims more (admin) than was registered. Exactly the
expected signers pass; every other gets the expected refusal, on whichever ledger runs."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import PIN, TODAY, invoice, register

from goldticket.domain import DomainError, error_from_message
from goldticket.ledger import Contract, EndorseError
from goldticket.messages import Identity
from goldticket.services import credit, financing, members, tickets, transfers
from goldticket.services.context import china_clock
from goldticket.settings import ROLE_MSP
from goldticket.signing import SoftwareSigner, new_member_key

pytestmark = pytest.mark.scenario
MATURITY = TODAY + dt.timedelta(days=90)
ACTORS = (
    "operator_admin",
    "operator_clerk",
    "core",
    "core2",
    "tier1",
    "tier1_admin",
    "tier2",
    "bank",
    "factor",
    "revoked",
    "suspended",
    "unregistered",
    "recertified",
)


def _key(p, member_id: str, username: str, role: str = "clerk", *, register: bool = True) -> SoftwareSigner:
    member = p.evaluate("GetMember", {"id": member_id})
    ca = p.member_ca(ROLE_MSP[member["role"]])
    key = new_member_key()
    attributes = {"member": member_id, "role": role, "user": username}
    signer = SoftwareSigner(
        key, Identity(ca.msp_id, ca.issue(key.public_key(), common_name=username, attributes=attributes))
    )
    if register:
        operator, pin = p.actor("operator"), p.settings.operator_pin
        request = {"msp_id": ca.msp_id, "certificate_pem": signer.identity.certificate_pem.decode()}
        p.submit(operator, "RegisterIdentity", request, pin=pin)
    return signer


@pytest.fixture
def world(consortium):
    c, p = consortium, consortium.platform
    members.register_member(p, p.desk(), member_id="core2", name="第二核心", role="core")
    members.add_user(p, p.desk(), member_id="core2", username="core2.clerk", pin=PIN)
    operator, pin = p.actor("operator"), p.settings.operator_pin
    signers = {
        "core": _key(p, "core", "core.key"),
        "core2": _key(p, "core2", "core2.key"),
        "tier1": _key(p, "tier1", "tier1.key"),
        "tier2": _key(p, "tier2", "tier2.key"),
        "bank": _key(p, "bank", "bank.key"),
        "factor": _key(p, "factor", "factor.key"),
        "operator_clerk": _key(p, "operator", "operator.clerk.key"),
        "revoked": _key(p, "tier1", "tier1.revoked"),
        "suspended": _key(p, "tier1", "tier1.suspended"),
        "unregistered": _key(p, "tier1", "tier1.stranger", register=False),
        # tier1's first admin is registered at once (onboarding)...
        "tier1_admin": _key(p, "tier1", "tier1.admin.key", role="admin"),
    }
    # ...the operator's other users need an operator admin's approval (its first, the desk card)
    admin = _key(p, "operator", "operator.admin.key", role="admin")
    p.submit(operator, "ApproveIdentity", _cert(admin), pin=pin)
    signers["operator_admin"] = admin
    p.submit(operator, "ApproveIdentity", _cert(signers["operator_clerk"]), pin=pin)
    p.submit(operator, "RevokeIdentity", {**_cert(signers["revoked"]), "reason": "lost"}, pin=pin)
    p.submit(operator, "SuspendIdentity", {**_cert(signers["suspended"]), "reason": "lost"}, pin=pin)
    signers["recertified"] = _recertified(p, signers["tier1"])
    # tier3 was onboarded (its first admin), then lost every admin: its new admin waits for recovery
    tier3_admin = _key(p, "tier3", "tier3.admin", role="admin")
    p.submit(operator, "RevokeIdentity", {**_cert(tier3_admin), "reason": "left"}, pin=pin)
    recovering = _key(p, "tier3", "tier3.new.admin", role="admin")
    pending = _key(p, "tier1", "tier1.pending")  # tier1 has an admin now: this one waits
    # the desk opened a card for tier1.stranger: only that card's own key may claim it
    expected = {"member_id": "tier1", "user": "tier1.stranger", "role": "clerk", "card": "BSMATRIX"}
    p.submit(operator, "ExpectIdentity", expected, pin=pin)
    to_revoke = _key(p, "tier2", "tier2.other")

    def issue(number: str):
        return tickets.issue_ticket(
            p,
            c.core,
            payee_org_id="tier1",
            amount_fen=1_000_000,
            maturity_date=MATURITY,
            invoices=[invoice(number, 1_000_000)],
            pin=PIN,
        )

    waiting = issue("M-PENDING")
    active = tickets.accept_ticket(p, c.tier1, issue("M-ACTIVE")["id"], pin=PIN)
    offered = tickets.accept_ticket(p, c.tier1, issue("M-OFFER")["id"], pin=PIN)
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=offered["id"], to_org_id="tier2", amount_fen=100, pin=PIN
    )
    applied = tickets.accept_ticket(p, c.tier1, issue("M-APPLY")["id"], pin=PIN)
    application = financing.apply_financing(
        p,
        c.tier1,
        ticket_id=applied["id"],
        bank_org_id="bank",
        amount_fen=100,
        max_annual_rate_bp=500,
        pin=PIN,
    )
    register(p, c.bank, application["application_id"])
    offered_line = credit.grant_credit_line(p, c.bank, core_org_id="core", limit_fen=1_000, pin=PIN)
    frozen = tickets.accept_ticket(p, c.tier1, issue("M-FROZEN")["id"], pin=PIN)
    p.submit(operator, "FreezeTicket", {"ticket_id": frozen["id"], "reason": "court order"}, pin=pin)
    fresh = {"number": "M-NEW", "amount_fen": 500, "sha256": hashlib.sha256(b"M-NEW").hexdigest()}
    requests = {
        "Bootstrap": {"id": "operator", "name": "x"},
        "SetTermCap": {"max_term_months": 6},
        "UpdateMember": {"id": "tier2", "name": "改名"},
        "RegisterMember": {"id": "new", "name": "新", "role": "supplier", "msp_id": "OperatorMSP"},
        "RegisterIdentity": _cert(_key(p, "tier2", "tier2.proposed", register=False)),
        "ApproveIdentity": _cert(pending),
        "ExpectIdentity": {"member_id": "tier2", "user": "tier2.expected", "role": "clerk", "card": "BSX"},
        "ClaimIdentity": {"card": "BSMATRIX"},
        "RevokeIdentity": {**_cert(to_revoke), "reason": "lost"},
        "SuspendIdentity": {**_cert(_key(p, "tier1", "tier1.lost")), "reason": "lost"},
        "ResumeIdentity": _cert(signers["suspended"]),
        "ApproveRecovery": _cert(recovering),
        "GrantCreditLine": {"core_org_id": "core", "limit_fen": 1_000},
        "AcceptCreditLine": {"credit_line_id": offered_line["id"]},
        "DeclineCreditLine": {"credit_line_id": offered_line["id"]},
        "IssueTicket": {
            "payee_org_id": "tier1",
            "amount_fen": 500,
            "maturity_date": MATURITY.isoformat(),
            "invoices": [fresh],
            "commitment_sha256": "c0" * 32,  # each move records its signed document (#21)
        },
        "AcceptTicket": {"ticket_id": waiting["id"]},
        "RejectTicket": {"ticket_id": waiting["id"]},
        "CancelTicket": {"ticket_id": waiting["id"]},
        "OfferTransfer": {
            "ticket_id": active["id"],
            "to_org_id": "tier2",
            "amount_fen": 100,
            "agreement_sha256": "a9" * 32,
            "notice_sha256": "9a" * 32,
        },
        "AcceptOffer": {"offer_id": offer["offer_id"], "countersigned_sha256": "cc" * 32},
        "RejectOffer": {"offer_id": offer["offer_id"]},
        "CancelOffer": {"offer_id": offer["offer_id"]},
        "ApplyFinancing": {
            "ticket_id": active["id"],
            "bank_org_id": "bank",
            "amount_fen": 100,
            "max_annual_rate_bp": 500,
            "assignment_sha256": "a5" * 32,
        },
        "ApproveFinancing": {
            "application_id": application["application_id"],
            "annual_rate_bp": 262,
            "max_annual_rate_bp": 500,
            "terms_salt": "5a17" * 8,  # a private rate goes with its salt (#19)
            "value_date": TODAY.isoformat(),
            # the holder's assignment countersigned by the bank's card (#21)
            "countersigned_assignment_sha256": "ce" * 32,
        },
        "RejectFinancing": {"application_id": application["application_id"], "reason": "no"},
        "RecordRegistration": {
            "application_id": application["application_id"],
            "registration_number": "ZD-MATRIX-2",
            "registry": "中登网",
            "registered_on": TODAY.isoformat(),
            "expires_on": (TODAY + dt.timedelta(days=365)).isoformat(),
            "filing_sha256": "cd" * 32,
            "invoice_numbers": ["M-APPLY"],
        },
        "SettleTicket": {"root_id": active["id"]},
        "FreezeTicket": {"ticket_id": active["id"], "reason": "court order"},
        "UnfreezeTicket": {"ticket_id": frozen["id"]},
        "RecordCertificate": {
            "ticket_id": active["id"],
            "sha256": "ab" * 32,
            "certificate_id": "CT" + "A" * 20,
            "requested_by": "tier1",
            "requested_by_user": "tier1.clerk",
        },
        # #21: tier1 has no KYC record, and no change waits: who gets past the signer's check
        "RequestAccountChange": {"kyc_sha256": "ef" * 32},
        "ConfirmAccountChange": {"member_id": "tier1", "change_id": "ACnone", "kyc_sha256": "ef" * 32},
        "RejectAccountChange": {"member_id": "tier1", "change_id": "ACnone"},
    }
    return p, signers, requests


def _recertified(p, signer: SoftwareSigner) -> SoftwareSigner:
    """The same key under a new certificate from its CA that says admin instead of clerk."""
    ca = p.member_ca(signer.identity.msp_id)
    attributes = {"member": "tier1", "role": "admin", "user": "tier1.key"}
    cert = ca.issue(signer._private_key.public_key(), common_name="tier1.key", attributes=attributes)
    return SoftwareSigner(signer._private_key, Identity(ca.msp_id, cert))


def _cert(signer: SoftwareSigner) -> dict[str, str]:
    return {"msp_id": signer.identity.msp_id, "certificate_pem": signer.identity.certificate_pem.decode()}


# What each signer gets: "ok", or the error code of the refusal. Unlisted signers: forbidden.
OPERATOR = {"operator_admin": "ok"}
EXPECTED: dict[str, dict[str, str]] = {
    "Bootstrap": dict.fromkeys(ACTORS, "conflict"),
    "SetTermCap": OPERATOR,
    "UpdateMember": OPERATOR,
    "RegisterMember": OPERATOR,
    "RegisterIdentity": OPERATOR,
    "ApproveIdentity": {"tier1_admin": "ok"},
    "ExpectIdentity": OPERATOR,
    # only the expected card's own, unregistered key; every registered key is refused
    "ClaimIdentity": {**dict.fromkeys(ACTORS, "conflict"), "unregistered": "ok"},
    "RevokeIdentity": OPERATOR,
    # the desk, or an admin of the identity's own member
    "SuspendIdentity": {"operator_admin": "ok", "tier1_admin": "ok"},
    "ResumeIdentity": {"operator_admin": "ok", "tier1_admin": "ok"},
    # an admin of another non-operator member (tier3 is recovered; tier1's admin votes)
    "ApproveRecovery": {"tier1_admin": "ok"},
    "GrantCreditLine": {"bank": "ok", "factor": "ok"},
    # Only the core the line is offered to answers it; another core does not even find it.
    "AcceptCreditLine": {"core": "ok", "core2": "not_found"},
    "DeclineCreditLine": {"core": "ok", "core2": "not_found"},
    "IssueTicket": {"core": "ok", "core2": "rule_violation"},  # core2 has no credit line
    "AcceptTicket": {"tier1": "ok", "tier1_admin": "ok"},
    "RejectTicket": {"tier1": "ok", "tier1_admin": "ok"},
    "CancelTicket": {"core": "ok"},
    "OfferTransfer": {"tier1": "ok", "tier1_admin": "ok"},
    "AcceptOffer": {"tier2": "ok"},
    "RejectOffer": {"tier2": "ok"},
    "CancelOffer": {"tier1": "ok", "tier1_admin": "ok"},
    "ApplyFinancing": {"tier1": "ok", "tier1_admin": "ok"},
    "ApproveFinancing": {"bank": "ok"},
    "RejectFinancing": {"bank": "ok"},
    "RecordRegistration": {"bank": "ok"},  # only the application's bank (#21)
    "SettleTicket": {"core": "ok"},
    "FreezeTicket": {"operator_admin": "ok", "operator_clerk": "ok"},
    "UnfreezeTicket": {"operator_admin": "ok", "operator_clerk": "ok"},
    # the platform alone records certificates (issue #17, point 5): the operator's identities
    "RecordCertificate": {"operator_admin": "ok", "operator_clerk": "ok"},
    # a change of settlement account (#21): the member's own admin asks, an operator admin
    # confirms; a member admin or the operator closes one (the change is looked up first)
    "RequestAccountChange": {"tier1_admin": "rule_violation"},
    "ConfirmAccountChange": {"operator_admin": "not_found"},
    "RejectAccountChange": {"operator_admin": "not_found", "tier1_admin": "not_found"},
}


def _outcome(contract: Contract, signer: SoftwareSigner, function: str, request: dict) -> str:
    try:
        contract.evaluate(signer, function, request)
    except EndorseError as error:
        typed = error_from_message(error.chaincode_message or "")
        return typed.code if isinstance(typed, DomainError) else f"untyped: {error}"
    return "ok"


def test_every_write_transaction_by_every_signer(world):
    p, signers, requests = world
    assert set(requests) == set(EXPECTED)
    today = Contract(p.ledger, clock=lambda: china_clock(TODAY))
    at_maturity = Contract(p.ledger, clock=lambda: china_clock(MATURITY))
    found: dict[str, dict[str, str]] = {}
    for function, request in requests.items():
        contract = at_maturity if function == "SettleTicket" else today
        found[function] = {actor: _outcome(contract, signers[actor], function, request) for actor in ACTORS}
    wanted = {
        function: {actor: allowed.get(actor, "forbidden") for actor in ACTORS}
        for function, allowed in EXPECTED.items()
    }
    mismatches = {
        function: {
            actor: (found[function][actor], wanted[function][actor])
            for actor in ACTORS
            if found[function][actor] != wanted[function][actor]
        }
        for function in EXPECTED
    }
    assert {function: diff for function, diff in mismatches.items() if diff} == {}


def test_counterparties_have_the_role_the_operation_needs(consortium, issued_ticket):
    """A ticket is issued to a supplier, offered to a supplier or core, financed by a bank, and a
    credit line is granted to a core: any other counterparty is refused and nothing is written."""
    c, p = consortium, consortium.platform
    ticket_id = issued_ticket["id"]
    height = p.ledger.height()
    refused = [
        (
            c.core,
            "IssueTicket",
            {
                "payee_org_id": "bank",
                "amount_fen": 1,
                "maturity_date": "2027-01-01",
                "invoices": [invoice("R-1", 1)],
            },
        ),
        (c.tier1, "OfferTransfer", {"ticket_id": ticket_id, "to_org_id": "factor", "amount_fen": 1}),
        (c.tier1, "OfferTransfer", {"ticket_id": ticket_id, "to_org_id": "operator", "amount_fen": 1}),
        (c.tier1, "ApplyFinancing", {"ticket_id": ticket_id, "bank_org_id": "tier2", "amount_fen": 1}),
        (c.bank, "GrantCreditLine", {"core_org_id": "tier1", "limit_fen": 1}),
    ]
    for actor, function, request in refused:
        with pytest.raises(DomainError, match="is not a") as error:
            p.submit(actor, function, request, pin=PIN)
        assert error.value.code == "rule_violation", (function, request)
    assert p.ledger.height() == height


def test_a_member_is_registered_once(consortium):
    with pytest.raises(DomainError, match="already registered") as error:
        members.register_member(
            consortium.platform, consortium.platform.desk(), member_id="tier1", name="again", role="supplier"
        )
    assert error.value.code == "conflict"


def test_the_chaincode_checks_a_new_member_whatever_a_client_checked(consortium):
    p = consortium.platform
    operator, pin = p.actor("operator"), p.settings.operator_pin
    changes = [{"role": "operator"}, {"role": "auditor"}, {"day_basis": 364}, {"fee_bp": -1},
               {"fee_bp": 10_001}, {"fee_bp": 1.5}, {"fee_bp": True}]  # fmt: skip
    for change in changes:
        request = {"id": "newcomer", "name": "新成员", "role": "supplier", "msp_id": "OperatorMSP", **change}
        with pytest.raises(DomainError) as error:
            p.submit(operator, "RegisterMember", request, pin=pin)
        assert error.value.code == "invalid_input", change


def test_the_chaincode_checks_a_members_edit_whatever_a_client_checked(consortium):
    """#20 point 13: UpdateMember changes names, a day basis and a fee within their bounds,
    never a role or an MSP, never the operator's own member, never a member that is not."""
    p = consortium.platform
    operator, pin = p.actor("operator"), p.settings.operator_pin
    for change, code in [({"day_basis": 364}, "invalid_input"), ({"fee_bp": -1}, "invalid_input"),
                         ({"fee_bp": 1.5}, "invalid_input"), ({"name": ""}, "invalid_input"),
                         ({"id": "operator", "name": "x"}, "forbidden"), ({"id": "nobody", "name": "x"}, "not_found")]:  # fmt: skip
        with pytest.raises(DomainError) as error:
            p.submit(operator, "UpdateMember", {"id": "tier1", **change}, pin=pin)
        assert error.value.code == code, change
    before = p.evaluate("GetMember", {"id": "tier1"})
    after = p.submit(
        operator,
        "UpdateMember",
        {"id": "tier1", "name": "新名称", "role": "bank", "msp_id": "BankMSP"},
        pin=pin,
    ).result
    assert after == {**before, "name": "新名称"}  # the role and MSP asked for are ignored


def test_registering_an_identity_checks_its_certificate(consortium):
    p = consortium.platform
    operator, pin = p.actor("operator"), p.settings.operator_pin
    # a certificate from another organisation's CA naming a supplier (suppliers take OperatorMSP's)
    ca = p.member_ca("BankMSP")
    key = new_member_key()
    cert = ca.issue(
        key.public_key(), common_name="x", attributes={"member": "tier1", "role": "clerk", "user": "x"}
    )
    with pytest.raises(DomainError, match="takes identities from OperatorMSP") as error:
        p.submit(
            operator, "RegisterIdentity", {"msp_id": "BankMSP", "certificate_pem": cert.decode()}, pin=pin
        )
    assert error.value.code == "rule_violation"
    for bad in (123, "", "x" * 9000):
        with pytest.raises(DomainError) as error:
            p.submit(operator, "RegisterIdentity", {"msp_id": "OperatorMSP", "certificate_pem": bad}, pin=pin)
        assert error.value.code == "invalid_input", bad
    # a revoked key stays revoked
    revoked = _key(p, "tier2", "tier2.revoked")
    p.submit(operator, "RevokeIdentity", {**_cert(revoked), "reason": "lost"}, pin=pin)
    with pytest.raises(DomainError, match="revoked and cannot be registered again") as error:
        p.submit(operator, "RegisterIdentity", _cert(revoked), pin=pin)
    assert error.value.code == "conflict"
    with pytest.raises(DomainError, match="already revoked") as error:
        p.submit(operator, "RevokeIdentity", _cert(revoked), pin=pin)
    assert error.value.code == "conflict"


def test_the_chaincode_checks_the_invoice_list_whatever_a_client_checked(consortium):
    p, core = consortium.platform, consortium.core
    base = {"payee_org_id": "tier1", "amount_fen": 100, "maturity_date": "2027-01-01"}
    for invoices in (None, "INV-1", {"number": "INV-1"}, [invoice(f"N-{i}", 1) for i in range(101)]):
        with pytest.raises(DomainError) as error:
            p.submit(core, "IssueTicket", {**base, "invoices": invoices}, pin=PIN)
        assert error.value.code == "invalid_input", invoices


def test_a_certificate_hash_must_be_a_sha256(consortium, issued_ticket):
    p = consortium.platform
    desk = p.desk()
    base = {"ticket_id": issued_ticket["id"], "requested_by": "tier1", "requested_by_user": "tier1.clerk"}
    for digest in ("AB" * 32, "ab" * 31, "zz" * 32, "ab" * 32 + "0"):
        with pytest.raises(DomainError) as error:
            p.submit(
                desk.actor,
                "RecordCertificate",
                {**base, "sha256": digest, "certificate_id": "CT" + "C" * 20},
                pin=desk.pin,
            )
        assert error.value.code == "invalid_input", digest
    # the record names the requesting member (a party to the ticket), the user and its id
    for change in ({"requested_by": "tier2"}, {"requested_by": None}, {"requested_by_user": ""},
                   {"certificate_id": None}, {"certificate_id": "CT1"}):  # fmt: skip
        request = {**base, "sha256": "cd" * 32, "certificate_id": "CT" + "D" * 20, **change}
        with pytest.raises(DomainError) as error:
            p.submit(desk.actor, "RecordCertificate", request, pin=desk.pin)
        assert error.value.code in ("invalid_input", "forbidden"), change


# Queries (issue #17, points 7 and 14): who reads what on the ledger. Unlisted: forbidden.
QUERY_EXPECTED: dict[str, dict[str, str]] = {
    "GetMember": {a: "ok" for a in ACTORS if a not in ("revoked", "suspended", "unregistered", "recertified")},
    "ListIdentities": {"operator_admin": "ok", "operator_clerk": "ok", "tier1": "ok", "tier1_admin": "ok"},
    "GetTicket": {"operator_admin": "ok", "operator_clerk": "ok", "core": "ok", "tier1": "ok",
                  "tier1_admin": "ok", "core2": "not_found", "tier2": "not_found", "bank": "not_found",
                  "factor": "not_found"},
    "ListTickets": {"operator_admin": "ok", "operator_clerk": "ok"},
}  # fmt: skip


def test_every_query_by_every_signer(world):
    p, signers, requests = world
    active = requests["AcceptTicket"]["ticket_id"]
    queries = {
        "GetMember": {"id": "tier1"},
        "ListIdentities": {"member_id": "tier1"},
        "GetTicket": {"ticket_id": active},
        "ListTickets": {"status": "ACTIVE"},
    }
    today = Contract(p.ledger, clock=lambda: china_clock(TODAY))
    found = {f: {a: _outcome(today, signers[a], f, r) for a in ACTORS} for f, r in queries.items()}
    wanted = {f: {a: QUERY_EXPECTED[f].get(a, "forbidden") for a in ACTORS} for f in queries}
    assert found == wanted
