"""#20 "check before the PIN" on both ledgers: the portal's read identity has the chaincode run the
write a member would sign (``Rehearse``, chaincode/rehearsal.py) and learns its refusal without a
signature; nothing is ever written by it, not even when someone submits it as a transaction,
and no one but the read identity may rehearse."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from support import TODAY, invoice

from goldticket import domain as d
from goldticket.ledger import Contract, EndorseError

pytestmark = pytest.mark.scenario


def _creator(p, username: str) -> dict[str, str]:
    serial = p.cards.registry.active_card(username).serial
    identity = p.signing.identity(serial)
    return {"msp_id": identity.msp_id, "certificate_pem": identity.certificate_pem.decode()}


def _issue(amount_fen: int, days: int) -> dict[str, object]:
    return {
        "payee_org_id": "tier1",
        "amount_fen": amount_fen,
        "maturity_date": (TODAY + dt.timedelta(days=days)).isoformat(),
        "invoices": [invoice("INV-RH-1", amount_fen)],
        "credit_line_id": None,
        "commitment_sha256": "c0" * 32,  # its signed document (#21)
    }


def _world(p) -> tuple[object, ...]:
    lines = p.evaluate("ListCreditLines", {"core_org_id": "core"})
    held = p.evaluate("ListTickets", {"holder_org_id": "tier1"})
    return (lines, held, p.ledger.height())


def _request(consortium, days: int = 90, amount_fen: int = 12_345_678) -> dict[str, object]:
    request = _issue(amount_fen, days)
    request["credit_line_id"] = consortium.credit_line["id"]
    return request


def test_a_write_the_chaincode_allows_rehearses_ok_and_writes_nothing(consortium) -> None:
    c, p = consortium, consortium.platform
    before = _world(p)
    answer = p.evaluate(
        "Rehearse", {"function": "IssueTicket", "request": _request(c), "creator": _creator(p, "core.clerk")}
    )
    assert answer == {"ok": True, "function": "IssueTicket"}
    assert _world(p) == before


def test_a_refused_write_is_refused_in_the_chaincodes_words_before_any_signature(consortium) -> None:
    c, p = consortium, consortium.platform
    before = _world(p)
    # maturity in the past: the same rule the signed IssueTicket meets
    with pytest.raises(d.DomainError) as rehearsed:
        p.evaluate(
            "Rehearse",
            {
                "function": "IssueTicket",
                "request": _request(c, days=-5),
                "creator": _creator(p, "core.clerk"),
            },
        )
    # a supplier issuing: refused by the same authorization check
    with pytest.raises(d.ForbiddenError):
        p.evaluate(
            "Rehearse",
            {"function": "IssueTicket", "request": _request(c), "creator": _creator(p, "tier1.clerk")},
        )
    assert _world(p) == before
    # the platform's own rehearsal, as the confirmation page runs it, says the same
    with pytest.raises(type(rehearsed.value)) as through_platform:
        p.rehearse(c.core, "IssueTicket", _request(c, days=-5))
    assert str(through_platform.value) == str(rehearsed.value)


def test_only_the_read_identity_may_rehearse(consortium, tier1_key) -> None:
    c, p = consortium, consortium.platform
    request = {"function": "IssueTicket", "request": _request(c), "creator": _creator(p, "core.clerk")}
    with pytest.raises(EndorseError, match="forbidden: only the portal's read identity"):
        Contract(p.ledger).evaluate(tier1_key, "Rehearse", request)


def test_rehearse_runs_writes_only_and_never_as_a_read_identity(consortium) -> None:
    c, p = consortium, consortium.platform
    core = _creator(p, "core.clerk")
    for function in ("GetTicket", "Rehearse", "Nothing", "_save"):
        with pytest.raises(d.InvalidInputError):
            p.evaluate("Rehearse", {"function": function, "request": {}, "creator": core})
    reader = {
        "msp_id": p.reader.identity.msp_id,
        "certificate_pem": p.reader.identity.certificate_pem.decode(),
    }
    with pytest.raises(d.ForbiddenError):
        p.evaluate("Rehearse", {"function": "IssueTicket", "request": _request(c), "creator": reader})


def test_submitted_as_a_transaction_it_still_writes_nothing(consortium) -> None:
    """The read identity's key is the platform's: were a rehearsal ever to write, the operator
    could act for a member. Submitted and committed, it leaves world state as it was."""
    c, p = consortium, consortium.platform
    before_lines, before_held, _ = _world(p)
    request = {"function": "IssueTicket", "request": _request(c), "creator": _creator(p, "core.clerk")}
    result, _, _ = Contract(p.ledger).submit(p.reader, "Rehearse", request)
    assert result == {"ok": True, "function": "IssueTicket"}
    lines, held, _ = _world(p)
    assert (lines, held) == (before_lines, before_held)


def test_a_rehearsal_refuses_malformed_requests_clearly(consortium) -> None:
    c, p = consortium, consortium.platform
    core = _creator(p, "core.clerk")
    for request in (
        {"function": "IssueTicket", "request": ["not", "an", "object"], "creator": core},
        {"function": "IssueTicket", "request": _request(c), "creator": "core.clerk"},
        {"function": "IssueTicket", "request": _request(c), "creator": {**core, "certificate_pem": 42}},
        {
            "function": "IssueTicket",
            "request": _request(c),
            "creator": {**core, "certificate_pem": "x" * 9000},
        },
    ):
        with pytest.raises(d.InvalidInputError):
            p.evaluate("Rehearse", request)


def test_the_dry_stub_forwards_reads_only(consortium) -> None:
    """Whatever of a stub may write and is not dropped by name is refused, not forwarded: a
    future write method of the shim cannot slip through a rehearsal."""
    from chaincode.rehearsal import _DryStub
    from goldticket import messages as m
    from goldticket.ledger.local.stub import SimulationStub

    p = consortium.platform
    if p.ledger.kind != "local":
        pytest.skip("the embedded ledger's stub stands for any")
    proposal = m.decode_proposal(
        m.build_proposal(
            channel_id=p.ledger.channel_id,
            chaincode=p.ledger.chaincode,
            function="Ping",
            args=["{}"],
            creator=p.reader.identity,
            timestamp=dt.datetime.now(dt.UTC),
        ).bytes
    )
    dry = _DryStub(SimulationStub(p.ledger._store, proposal), {"mspid": "x", "idBytes": b""})  # noqa: SLF001
    assert dry.get_txid() == proposal.tx_id
    for name in ("invoke_chaincode", "read_write_set", "get_events", "client"):
        with pytest.raises(d.ForbiddenError, match="a rehearsal writes nothing"):
            getattr(dry, name)
    # private data is dropped by name, as put_state is (a prepared financing approval's rehearsal
    # writes its private terms, #20): nothing reaches the stub's write set
    asyncio.run(dry.put_private_data("terms-BankMSP", "key", b"value"))
    assert dry._stub.private_writes == ()  # noqa: SLF001
