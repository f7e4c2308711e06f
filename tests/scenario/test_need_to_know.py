"""Issue #17, points 5, 7 and 14 (the ledger's part): certificates are the platform's alone, a
member sees its own pieces and the path to them, the public look-up names no one, queries and
Ping check their caller. On whichever ledger runs, signing in-process and through the gateway."""

from __future__ import annotations

import json

import pytest
from support import PIN, TODAY, register

from goldticket.services import certificates, financing, transfers
from goldticket.services.certificates import issue as issuing
from goldticket.services.certificates.documents import document_signer
from goldticket.services.errors import RateLimitedError
from goldticket.signing.errors import SigningError

pytestmark = pytest.mark.scenario


def _split_and_financed(c, ticket_id):
    """tier1 transfers 300,000.00 to tier2, then puts 200,000.00 of its rest to the bank."""
    p = c.platform
    offer = transfers.offer_transfer(
        p, c.tier1, ticket_id=ticket_id, to_org_id="tier2", amount_fen=30_000_000, pin=PIN
    )
    moved = transfers.accept_offer(p, c.tier2, offer["offer_id"], pin=PIN)
    rest = moved["remainder"]["id"]
    application = financing.apply_financing(
        p, c.tier1, ticket_id=rest, bank_org_id="bank", amount_fen=20_000_000, max_annual_rate_bp=500, pin=PIN
    )
    register(p, c.bank, application["application_id"])
    financed = financing.approve_financing(
        p, c.bank, application_id=application["application_id"], annual_rate_bp=300, value_date=TODAY, pin=PIN
    )
    return moved["transferred"]["id"], rest, financed


def test_a_holders_card_cannot_record_a_certificate_of_its_choosing(consortium, issued_ticket, tier1_key):
    """Point 5: a holder signs RecordCertificate itself, with any hash and id: refused by the
    gateway (the card's own) and by the chaincode (a software key straight to the ledger)."""
    c, p = consortium, consortium.platform
    height = p.ledger.height()
    request = {
        "ticket_id": issued_ticket["id"],
        "sha256": "ab" * 32,
        "certificate_id": "CT" + "A" * 20,
        "requested_by": "tier1",
        "requested_by_user": c.tier1.username,
    }
    with pytest.raises(SigningError, match="only the platform's own identity signs RecordCertificate"):
        p.submit(c.tier1, "RecordCertificate", request, pin=PIN)  # the card refuses to sign it
    with pytest.raises(Exception, match="forbidden"):
        p.contract.submit(tier1_key, "RecordCertificate", request)
    assert p.ledger.height() == height


def test_a_platform_signed_statement_recorded_for_another_ticket_is_forged(consortium, issued_ticket):
    """Point 5: a PDF the platform signed for something else (here: signed with another reason,
    as a clearing statement is), anchored as a certificate of a ticket, does not verify."""
    c, p = consortium, consortium.platform
    genuine = certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    signer = document_signer(p)
    other = signer.sign(
        genuine.pdf[: genuine.pdf.index(b"%%EOF") + 5], reason="GoldTicket clearing statement ST1"
    )
    check = __import__("goldticket.certificates", fromlist=["check_signature"]).check_signature(
        other, signer.certificate_pem, signer.ca_pem
    )
    desk = p.desk()
    p.submit(
        desk.actor,
        "RecordCertificate",
        {
            "ticket_id": issued_ticket["id"],
            "sha256": check.sha256,
            "certificate_id": "CT" + "B" * 20,
            "requested_by": "tier1",
            "requested_by_user": c.tier1.username,
        },
        pin=desk.pin,
    )
    verdict = certificates.verify_certificate(p, other)
    assert verdict["verdict"] == "forged"
    assert "not the ledger record's" in verdict["reasons"][0]
    assert certificates.verify_certificate(p, genuine.pdf)["verdict"] == "valid"


def test_certificate_downloads_are_rate_limited_and_audited_per_user(consortium, issued_ticket, monkeypatch):
    c, p = consortium, consortium.platform
    monkeypatch.setattr(issuing, "DOWNLOADS_PER_HOUR", 2)
    for _ in range(2):
        certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    height = p.ledger.height()
    with pytest.raises(RateLimitedError):
        certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    assert p.ledger.height() == height
    certificates.issue_certificate(p, c.core, issued_ticket["id"])  # another user has its own count
    audit = (p.settings.data_dir / "cards" / "audit.jsonl").read_text().splitlines()
    lines = [entry for entry in (json.loads(line)["entry"] for line in audit) if entry.get("certificate")]
    assert [line["user"] for line in lines] == [c.tier1.username, c.tier1.username, c.core.username]


def test_the_public_look_up_names_no_member_amount_or_transaction(consortium, issued_ticket):
    """Point 7: after a transfer and a financing the public answer says genuine, stale, and
    the status; no holder, bank, amounts or transaction ids."""
    c, p = consortium, consortium.platform
    issued = certificates.issue_certificate(p, c.tier1, issued_ticket["id"])
    _split_and_financed(c, issued_ticket["id"])
    answer = certificates.lookup_certificate(p, issued.certificate_id)
    assert (answer["genuine"], answer["verdict"], answer["current"]["status"]) == (True, "stale", "SPLIT")
    text = json.dumps(answer)
    for secret in (
        "tier1",
        "tier2",
        "bank",
        "core",
        "amount",
        "tx_id",
        "transaction",
        issued_ticket["tx_id"],
    ):
        assert secret not in text, secret
    unknown = certificates.lookup_certificate(p, "CT" + "0" * 20)
    assert unknown["genuine"] is False and unknown["verdict"] == "forged"


def test_a_member_sees_its_own_pieces_and_the_path_not_its_siblings(consortium, issued_ticket, tier2_key):
    """Point 7, on the ledger: tier2 (given 300,000.00 of tier1's ticket) reads the root and its
    own piece; not tier1's remainder, nor the piece the bank financed, nor their history."""
    c, p = consortium, consortium.platform
    mine, rest, financed = _split_and_financed(c, issued_ticket["id"])
    tree = p.contract.evaluate(tier2_key, "GetLineage", {"ticket_id": mine})

    def ids(node):
        return [node["ticket"]["id"], *(i for child in node["children"] for i in ids(child))]

    assert sorted(ids(tree)) == sorted([issued_ticket["id"], mine])
    for hidden in (rest, financed["financed"]["id"]):
        for function in ("GetTicket", "GetHistory", "GetLineage"):
            with pytest.raises(Exception, match="not_found"):
                p.contract.evaluate(tier2_key, function, {"ticket_id": hidden})
    listed = p.contract.evaluate(tier2_key, "ListTickets", {"root_id": issued_ticket["id"]})["items"]
    assert sorted(t["id"] for t in listed) == sorted([issued_ticket["id"], mine])
    with pytest.raises(Exception, match="forbidden"):
        p.contract.evaluate(tier2_key, "ListTickets", {"holder_org_id": "tier1"})
    with pytest.raises(Exception, match="forbidden"):
        p.contract.evaluate(tier2_key, "ListTickets", {"status": "ACTIVE"})
    # the issuer pays every piece at maturity: it sees them all
    everything = p.evaluate("GetLineage", {"ticket_id": issued_ticket["id"]})
    assert len(ids(everything)) == 5


def test_queries_refuse_a_signer_that_is_not_registered_or_revoked(consortium, issued_ticket, tier1_key):
    """Point 14: a certificate from a channel CA that was never registered, or was revoked,
    reads nothing."""
    from goldticket.messages import Identity
    from goldticket.settings import ROLE_MSP
    from goldticket.signing import SoftwareSigner, new_member_key

    p = consortium.platform
    ca = p.member_ca(ROLE_MSP["supplier"])
    key = new_member_key()
    cert = ca.issue(
        key.public_key(), common_name="x", attributes={"member": "tier1", "role": "clerk", "user": "x"}
    )
    stranger = SoftwareSigner(key, Identity(ca.msp_id, cert))
    operator, pin = p.actor("operator"), p.settings.operator_pin
    p.submit(operator, "RevokeIdentity", {"msp_id": tier1_key.identity.msp_id,
             "certificate_pem": tier1_key.identity.certificate_pem.decode(), "reason": "lost"}, pin=pin)  # fmt: skip
    for signer in (stranger, tier1_key):
        for function, request in (
            ("GetTicket", {"ticket_id": issued_ticket["id"]}),
            ("GetMember", {"id": "tier1"}),
            ("ListMembers", {}),
            ("GetCertificate", {"sha256": "ab" * 32}),
            ("GetLedgerRules", {}),
        ):
            with pytest.raises(Exception, match="forbidden"):
                p.contract.evaluate(signer, function, request)


def test_ping_writes_only_for_the_operator(consortium, tier1_key):
    """Point 14: Ping with a key by a member's identity (or the portal's read identity) is
    refused; without a key it writes nothing and any identity may call it."""
    p = consortium.platform
    height = p.ledger.height()
    for signer in (tier1_key, p.reader):
        with pytest.raises(Exception, match="forbidden"):
            p.contract.submit(signer, "Ping", {"key": "mine"})
    assert p.ledger.height() == height
    assert p.contract.evaluate(tier1_key, "Ping", {})["today"]


def test_the_read_identity_signs_no_write(consortium, issued_ticket):
    """The portal's read identity (a key in a file) is registered for queries only."""
    p = consortium.platform
    with pytest.raises(Exception, match="a read identity signs no transaction"):
        p.contract.submit(p.reader, "FreezeTicket", {"ticket_id": issued_ticket["id"], "reason": "x"})


def test_a_holder_reads_only_its_own_lines_of_the_clearing_statement(consortium, issued_ticket):
    """Point 7: at maturity the statement names every payee for the issuer; tier2 (one piece)
    reads its own line, not tier1's or the bank's."""
    import datetime as dt

    from support import on

    from goldticket.services import settlement

    c, p = consortium, consortium.platform
    mine, _, _ = _split_and_financed(c, issued_ticket["id"])
    at = on(p, TODAY + dt.timedelta(days=90))
    statement = settlement.settle_ticket(at, c.core, issued_ticket["id"], pin=PIN)
    full = certificates.get_statement(at, c.core, issued_ticket["id"], statement["statement_id"])
    assert {item["holder_org_id"] for item in full["paid"]} == {"tier1", "tier2", "bank"}
    own = certificates.get_statement(at, c.tier2, issued_ticket["id"], statement["statement_id"])
    assert [item["ticket_id"] for item in own["paid"]] == [mine]
    (listed,) = certificates.list_statements(at, c.tier2, issued_ticket["id"])
    assert {item["holder_org_id"] for item in listed["paid"]} == {"tier2"}
