"""Attacks on the signing gateway. Each is refused with a typed error, signs nothing, counts no
PIN try and leaves an audit line; each test fails when the check it attacks is removed.

The write-set attacks tamper with a genuinely endorsed envelope (as a malicious portal or peer
could: the gateway does not verify endorsements, it checks what the envelope writes) and then
show that the genuine envelope is still signed, once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import proposal_pb2, proposal_response_pb2, transaction_pb2
from support import PIN, TODAY, invoice, on, register

from goldticket import messages as m
from goldticket.services import transfers
from goldticket.services.context import CHINA, china_clock
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import CardLockedError, RefusedError, SigningError, WrongPinError
from goldticket.signing.gateway import GatewayServer
from goldticket.signing.intents import Deployment
from goldticket.signing.service import SigningService

# the ledger's machinery under raw requests: its ledger is made without the documents rule (#21;
# tests/scenario/test_documents_required.py tests the rule)
pytestmark = [pytest.mark.functional, pytest.mark.documents_optional]
SECRET = "a deployment secret of some length"


@pytest.fixture
def gateway(consortium):
    server = GatewayServer(("127.0.0.1", 0), consortium.platform.cards.service, SECRET.encode())
    server.start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(gateway):
    return GatewayClient(gateway.url, SECRET)


# ------------------------------------------------------------------------------------ helpers
def serial_of(consortium, actor) -> str:
    return consortium.platform.cards.registry.active_card(actor.username).serial


def audit_entries(consortium) -> list[dict[str, Any]]:
    path = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"
    return [json.loads(line)["entry"] for line in path.read_text(encoding="utf-8").splitlines()]


def build(platform, identity, function, request, **changes) -> m.Proposal:
    fields: dict[str, Any] = {
        "channel_id": platform.settings.channel,
        "chaincode": platform.settings.chaincode,
        "function": function,
        "args": [json.dumps(request, sort_keys=True, ensure_ascii=False)],
        "creator": identity,
        "timestamp": china_clock(platform.settings.today),
    }
    return m.build_proposal(**{**fields, **changes})


def endorsed(platform, actor, function, request) -> tuple[str, dict[str, Any], bytes]:
    """Card serial, intent and the endorsed envelope payload of an honest request whose
    proposal the gateway signed."""
    service = platform.cards.service
    serial = platform.cards.registry.active_card(actor.username).serial
    proposal = build(platform, service.identity(serial), function, request)
    intent = {"function": function, "request": request}
    signature = service.sign(
        serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent
    )
    prepared = platform.ledger.endorse(m.signed_proposal(proposal.bytes, signature))
    return serial, intent, prepared.bytes


def tamper(payload_bytes: bytes, edit: Callable[[Any, Any, Any], None]) -> bytes:
    """The envelope payload with its chaincode action, read-write set or action payload edited
    by ``edit(action_payload, chaincode_action, tx_rwset)``, every layer serialised again."""
    payload = common_pb2.Payload.FromString(payload_bytes)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(transaction.actions[0].payload)
    response = proposal_response_pb2.ProposalResponsePayload.FromString(
        action_payload.action.proposal_response_payload
    )
    action = proposal_pb2.ChaincodeAction.FromString(response.extension)
    rwset = rwset_pb2.TxReadWriteSet.FromString(action.results)
    edit(action_payload, action, rwset)
    action.results = rwset.SerializeToString()
    response.extension = action.SerializeToString()
    action_payload.action.proposal_response_payload = response.SerializeToString()
    transaction.actions[0].payload = action_payload.SerializeToString()
    payload.data = transaction.SerializeToString()
    return payload.SerializeToString()


def key(kind: str, *attrs: str) -> str:
    return "\x00" + "\x00".join((kind, *attrs)) + "\x00"


def on_writes(change: Callable[[list[dict[str, Any]]], None], namespace: str = "goldticket"):
    """An edit of the chaincode's own writes, given as dicts {key, kind, value (JSON), delete}."""

    def edit(action_payload, action, rwset) -> None:
        for ns in rwset.ns_rwset:
            if ns.namespace != namespace:
                continue
            kv = kv_rwset_pb2.KVRWSet.FromString(ns.rwset)
            writes = [
                {
                    "key": w.key,
                    "kind": w.key[1:].split("\x00")[0] if w.key.startswith("\x00") else None,
                    "value": json.loads(w.value) if w.value and not w.is_delete else None,
                    "delete": w.is_delete,
                }
                for w in kv.writes
            ]
            change(writes)
            del kv.writes[:]
            for w in writes:
                value = b"" if w["value"] is None else json.dumps(w["value"], sort_keys=True).encode()
                kv.writes.add(key=w["key"], value=value, is_delete=w["delete"])
            ns.rwset = kv.SerializeToString()

    return edit


def first(writes, kind) -> dict[str, Any]:
    return next(w for w in writes if w["kind"] == kind and w["value"])


def set_field(kind: str, **fields: Any):
    return lambda writes: first(writes, kind)["value"].update(fields)


def drop(kind: str):
    return lambda writes: writes.__setitem__(slice(None), [w for w in writes if w["kind"] != kind])


def duplicate(kind: str, new_id: str):
    def change(writes) -> None:
        original = first(writes, kind)
        attrs = original["key"][1:].split("\x00")[1:-1]
        writes.append({**original, "key": key(kind, new_id, *attrs[1:]), "value": dict(original["value"])})

    return change


def add(kind: str, attrs: tuple[str, ...], value: Any):
    return lambda writes: writes.append(
        {"key": key(kind, *attrs), "kind": kind, "value": value, "delete": False}
    )


def refused_then_genuine(platform, serial, intent, genuine: bytes, attacks) -> None:
    """Every tampered envelope is refused with its reason, no PIN try is spent, each refusal is
    audited; then the genuine envelope is signed, exactly once."""
    service = platform.cards.service
    for edit, reason in attacks:
        forged = tamper(genuine, edit)
        with pytest.raises(RefusedError, match=reason):
            service.sign(serial=serial, pin=PIN, purpose="transaction", message=forged, intent=intent)
        line = json.loads(
            (platform.settings.data_dir / "cards" / "audit.jsonl").read_text().splitlines()[-1]
        )["entry"]
        assert line["result"] == "refused" and line["purpose"] == "transaction"
        assert line["digest"] == m.sha256(forged).hex()
    assert platform.cards.registry.get(serial).wrong_pins == 0
    signature = service.sign(serial=serial, pin=PIN, purpose="transaction", message=genuine, intent=intent)
    m.verify_signature(service.identity(serial).certificate_pem, genuine, signature)
    with pytest.raises(RefusedError, match="no proposal"):
        service.sign(serial=serial, pin=PIN, purpose="transaction", message=genuine, intent=intent)


# ------------------------------------------------------------------ the proposal's own checks
def test_another_channel_or_chaincode_is_refused_and_audited(consortium, issued_ticket):
    platform = consortium.platform
    service = platform.cards.service
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    intent = {"function": "OfferTransfer", "request": request}
    for change, reason in (
        ({"channel_id": "otherchannel"}, "channel 'otherchannel'"),
        ({"chaincode": "othercc"}, "chaincode 'othercc'"),
    ):
        proposal = build(platform, service.identity(serial), "OfferTransfer", request, **change)
        with pytest.raises(RefusedError, match=reason):
            service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
        entry = audit_entries(consortium)[-1]
        assert entry["result"] == "refused" and entry["tx_id"] == proposal.tx_id
        assert (entry["channel"], entry["chaincode"]) == (
            change.get("channel_id", platform.settings.channel),
            change.get("chaincode", platform.settings.chaincode),
        )
    assert platform.cards.registry.get(serial).wrong_pins == 0


def test_a_gateway_signs_only_for_its_deployment(consortium, issued_ticket):
    """A gateway of another deployment (its own chaincode name) refuses this one's proposals."""
    cards = consortium.platform.cards
    other = SigningService(
        cards.registry, cards.factories, cards.service.audit, deployment=Deployment("goldticket", "other")
    )
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    proposal = build(consortium.platform, other.identity(serial), "OfferTransfer", request)
    with pytest.raises(RefusedError, match="this gateway signs for 'other'"):
        other.sign(
            serial=serial,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": request},
        )


@pytest.mark.parametrize(
    "shift",
    [dt.timedelta(minutes=16), -dt.timedelta(minutes=16), dt.timedelta(days=1), -dt.timedelta(days=40)],
)
def test_a_proposal_stamped_outside_the_window_is_refused(consortium, issued_ticket, shift):
    cards = consortium.platform.cards
    now = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    prod = SigningService(
        cards.registry, cards.factories, cards.service.audit, deployment=Deployment(), clock=lambda: now
    )
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    intent = {"function": "OfferTransfer", "request": request}
    identity = prod.identity(serial)
    proposal = build(consortium.platform, identity, "OfferTransfer", request, timestamp=now + shift)
    with pytest.raises(RefusedError, match="outside the gateway's time window"):
        prod.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    entry = audit_entries(consortium)[-1]
    assert entry["result"] == "refused" and entry["timestamp"] == (now + shift).isoformat()
    for inside in (dt.timedelta(minutes=14), -dt.timedelta(minutes=14)):
        proposal = build(consortium.platform, identity, "OfferTransfer", request, timestamp=now + inside)
        assert prod.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)


def test_the_dev_window_follows_a_set_clock_but_not_beyond_years(consortium, issued_ticket):
    """In test (GOLDTICKET_TODAY) the deployment's window is a dev network's ten years."""
    service = consortium.platform.cards.service
    assert service.deployment.time_window >= dt.timedelta(days=3000)
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    intent = {"function": "OfferTransfer", "request": request}
    later = on(consortium.platform, TODAY + dt.timedelta(days=400))
    proposal = build(later, service.identity(serial), "OfferTransfer", request)
    assert service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=3660)
    proposal = build(consortium.platform, service.identity(serial), "OfferTransfer", request, timestamp=far)
    with pytest.raises(RefusedError, match="time window"):
        service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)


def test_the_audit_line_of_a_signature_names_channel_chaincode_tx_and_time(consortium, issued_ticket):
    platform = consortium.platform
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    serial, intent, prepared = endorsed(platform, consortium.tier1, "OfferTransfer", request)
    proposal_line = audit_entries(consortium)[-1]
    tx = m.decode_transaction(prepared)
    platform.cards.service.sign(
        serial=serial, pin=PIN, purpose="transaction", message=prepared, intent=intent
    )
    envelope_line = audit_entries(consortium)[-1]
    for line, purpose in ((proposal_line, "proposal"), (envelope_line, "transaction")):
        assert line["result"] == "signed" and line["purpose"] == purpose
        assert (line["channel"], line["chaincode"], line["tx_id"]) == (
            platform.settings.channel,
            platform.settings.chaincode,
            tx.tx_id,
        )
        assert dt.datetime.fromisoformat(line["timestamp"]).astimezone(CHINA).date() == TODAY
        assert line["intent"] == intent


# ------------------------------------------------------------------------ audit of every request
def test_wrong_pins_with_a_secret_named_intent_field_do_not_lock_the_card_unaudited(
    consortium, issued_ticket, client
):
    """The review's attack: five wrong PINs with ``x_pin`` in the intent locked the card and left
    no audit line. Now each is refused before the card is touched, and audited."""
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000, "x_pin": "424242"}
    proposal = build(consortium.platform, client.identity(serial), "OfferTransfer", request)
    intent = {"function": "OfferTransfer", "request": request}
    before = len(audit_entries(consortium))
    for _ in range(6):
        with pytest.raises(RefusedError, match="named like a secret"):
            client.sign(
                serial=serial, pin="000000", purpose="proposal", message=proposal.bytes, intent=intent
            )
    entries = audit_entries(consortium)[before:]
    refusals = [e for e in entries if e.get("purpose") == "proposal"]
    assert len(refusals) == 6
    assert all(e["result"] == "refused" and e["code"] == "forbidden" for e in refusals)
    assert refusals[0]["intent"]["secret_fields"] == ["intent.request.x_pin"]
    text = (consortium.platform.settings.data_dir / "cards" / "audit.jsonl").read_text()
    assert '"424242"' not in text and '"000000"' not in text
    assert text.count("x_pin") == text.count("intent.request.x_pin")  # the name, never as a key
    assert consortium.platform.cards.registry.get(serial).wrong_pins == 0
    # the same wrong PINs on an honest intent do count, and are audited each time
    request.pop("x_pin")
    proposal = build(consortium.platform, client.identity(serial), "OfferTransfer", request)
    for _ in range(5):
        with pytest.raises(WrongPinError):
            client.sign(
                serial=serial, pin="000000", purpose="proposal", message=proposal.bytes, intent=intent
            )
    with pytest.raises(CardLockedError):
        client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    codes = [e.get("code") for e in audit_entries(consortium)[-6:]]
    assert codes == ["wrong_pin"] * 5 + ["card_locked"]


def test_an_unexpected_failure_is_audited_and_typed(consortium, issued_ticket, tmp_path):
    """A failure the service does not expect (here its card registry's database file has
    become a directory) becomes a SigningError, and the request still leaves its audit line."""
    import sqlite3

    from goldticket.signing.registry import CardRegistry

    cards = consortium.platform.cards
    copy = tmp_path / "registry.sqlite"
    with sqlite3.connect(cards.registry.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    registry = CardRegistry(copy)
    service = SigningService(registry, cards.factories, cards.service.audit)
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    proposal = build(consortium.platform, service.identity(serial), "OfferTransfer", request)
    registry.close()
    for suffix in ("", "-wal", "-shm"):
        copy.with_name(copy.name + suffix).unlink(missing_ok=True)
    copy.mkdir()
    with pytest.raises(SigningError, match="nothing was signed") as failed:
        service.sign(
            serial=serial,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": request},
        )
    assert type(failed.value) is SigningError
    entry = audit_entries(consortium)[-1]
    assert (entry["result"], entry["code"], entry["tx_id"]) == ("refused", "internal_error", proposal.tx_id)


def test_requests_refused_by_the_transport_are_audited(consortium, gateway):
    import urllib.error
    import urllib.request

    server, secret = gateway, SECRET
    before = len(audit_entries(consortium))

    def call(path: str, body: bytes | None, token: str) -> int:
        request = urllib.request.Request(
            server.url + path,
            data=body,
            method="POST" if body is not None else "GET",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            error.close()
            return error.code

    assert call("/v1/sign", b"{}", "not the secret") == 401
    assert call("/v1/sign", b'{"serial": "x"}', secret) == 400
    assert call("/v1/nothing", None, secret) == 404
    assert call("/v1/cards/BS0000000000000000/identity", None, secret) == 404
    entries = audit_entries(consortium)[before:]
    assert [e["code"] for e in entries] == ["unauthenticated", "invalid_input", "not_found", "not_found"]
    assert all(e["result"] == "refused" for e in entries)


# ------------------------------------------------------------------------- one envelope each
def test_concurrent_envelope_requests_for_one_proposal_get_one_signature(consortium, issued_ticket, client):
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    serial, intent, prepared = endorsed(consortium.platform, consortium.tier1, "OfferTransfer", request)
    # a wrong PIN on the envelope gives the proposal back: the right PIN may still sign it
    with pytest.raises(WrongPinError):
        client.sign(serial=serial, pin="000000", purpose="transaction", message=prepared, intent=intent)
    results: list[str] = []
    start = threading.Barrier(8)

    def sign() -> None:
        start.wait()
        try:
            client.sign(serial=serial, pin=PIN, purpose="transaction", message=prepared, intent=intent)
            results.append("signed")
        except RefusedError:
            results.append("refused")

    threads = [threading.Thread(target=sign) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["refused"] * 7 + ["signed"]
    tx_id = m.decode_transaction(prepared).tx_id
    lines = [
        e for e in audit_entries(consortium) if e.get("tx_id") == tx_id and e["purpose"] == "transaction"
    ]
    assert sorted(e["result"] for e in lines) == ["refused"] * 8 + ["signed"]


# ------------------------------------------------------------------------ the write-set rules
def test_an_offer_envelope_that_writes_anything_else_is_refused(consortium, issued_ticket):
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    serial, intent, genuine = endorsed(platform, consortium.tier1, "OfferTransfer", request)

    def other_namespace(action_payload, action, rwset) -> None:
        kv = kv_rwset_pb2.KVRWSet(writes=[kv_rwset_pb2.KVWrite(key="k", value=b"1")])
        rwset.ns_rwset.add(namespace="othercc", rwset=kv.SerializeToString())

    def second_own_rwset(action_payload, action, rwset) -> None:
        rwset.ns_rwset.add(namespace=cc, rwset=rwset.ns_rwset[0].rwset)

    def refused_by_endorsers(action_payload, action, rwset) -> None:
        action.response.status = 500

    def other_proposal(action_payload, action, rwset) -> None:
        invocation = proposal_pb2.ChaincodeProposalPayload.FromString(
            action_payload.chaincode_proposal_payload
        )
        invocation.TransientMap["x"] = b"y"
        action_payload.chaincode_proposal_payload = invocation.SerializeToString()

    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (other_namespace, "writes outside its own chaincode"),
            (second_own_rwset, "writes outside its own chaincode"),
            (refused_by_endorsers, "endorsers refused"),
            (other_proposal, "endorsed proposal is not the one"),
            (on_writes(add("ping", ("p",), {"x": 1}), cc), "may not write ping"),
            (
                on_writes(
                    lambda w: w.append({"key": "plain", "kind": None, "value": 1, "delete": False}), cc
                ),
                "unexpected key",
            ),
            (on_writes(drop("ticket"), cc), f"does not change the ticket {issued_ticket['id']}"),
            (
                on_writes(add("ticket", ("TKother",), {"id": "TKother", "tx_id": "old"}), cc),
                "changes ticket TKother",
            ),
            (on_writes(set_field("offer", amount_fen=99_000_000), cc), "amount_fen 99000000"),
            (on_writes(set_field("offer", to_org_id="tier3"), cc), "to_org_id 'tier3'"),
            (on_writes(set_field("offer", ticket_id="TKother"), cc), "ticket"),
            (on_writes(duplicate("offer", "OFother"), cc), "exactly one offer"),
        ],
    )


def test_a_split_whose_pieces_do_not_add_up_is_refused(consortium, issued_ticket):
    platform = consortium.platform
    cc = platform.settings.chaincode
    offer = transfers.offer_transfer(  # an offer without documents: its acceptance states none
        platform, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=500, pin=PIN,
        documents=False,
    )  # fmt: skip
    serial, intent, genuine = endorsed(
        platform, consortium.tier2, "AcceptOffer", {"offer_id": offer["offer_id"]}
    )
    tx_id = m.decode_transaction(genuine).tx_id

    def piece(change):
        def edit(writes) -> None:
            pieces = [
                w
                for w in writes
                if w["kind"] == "ticket"
                and w["value"]
                and w["value"].get("tx_id") == tx_id
                and w["value"].get("parent_id")
            ]
            assert pieces, "the accepted offer splits the ticket"
            change(pieces[0]["value"], writes)

        return edit

    def parent(writes):
        return next(
            w["value"] for w in writes if w["kind"] == "ticket" and w["value"]["id"] == issued_ticket["id"]
        )

    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(piece(lambda p, w: p.update(amount_fen=p["amount_fen"] + 100)), cc), "do not add up"),
            (on_writes(piece(lambda p, w: parent(w).update(status="ACTIVE")), cc), "do not add up"),
            (on_writes(piece(lambda p, w: p.update(parent_id="TKnowhere")), cc), "do not add up"),
            (on_writes(add("credit", ("bank", "core"), {"limit_fen": 1}), cc), "may not write credit"),
        ],
    )


def test_a_financing_application_must_be_the_intent_s(consortium, issued_ticket):
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "ticket_id": issued_ticket["id"],
        "bank_org_id": "bank",
        "amount_fen": 2000,
        "max_annual_rate_bp": 350,
    }
    serial, intent, genuine = endorsed(platform, consortium.tier1, "ApplyFinancing", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("application", amount_fen=3000), cc), "amount_fen 3000"),
            (on_writes(set_field("application", max_annual_rate_bp=9000), cc), "max_annual_rate_bp 9000"),
            (on_writes(set_field("application", bank_org_id="factor"), cc), "bank_org_id 'factor'"),
            (on_writes(duplicate("application", "FAother"), cc), "exactly one application"),
            (on_writes(drop("application"), cc), "does not change|exactly one application"),
        ],
    )


def test_an_approval_above_the_holders_signed_rate_is_refused_by_the_gateway(consortium, issued_ticket):
    """Issue #17 point 3 at the gateway: the approval's intent states the holder's bound, the
    rate may not exceed it, and the application written must carry that bound and that rate."""
    from goldticket.services import financing
    from goldticket.signing.intents import Intent, check_writes

    platform = consortium.platform
    cc = platform.settings.chaincode
    applied = financing.apply_financing(
        platform,
        consortium.tier1,
        ticket_id=issued_ticket["id"],
        bank_org_id="bank",
        amount_fen=2000,
        max_annual_rate_bp=350,
        pin=PIN,
        documents=False,  # the countersignature (#21) has its own test below
    )
    register(platform, consortium.bank, applied["application_id"])
    request = {
        "application_id": applied["application_id"],
        "annual_rate_bp": 300,
        "max_annual_rate_bp": 350,
        "value_date": TODAY.isoformat(),
    }
    serial, intent, genuine = endorsed(platform, consortium.bank, "ApproveFinancing", request)
    tx = m.decode_transaction(genuine)
    for asked, reason in (
        ({"annual_rate_bp": 9000, "max_annual_rate_bp": 9000}, "the application's is 350"),
        ({"annual_rate_bp": 400}, "exceeds the holder's bound of 350"),
        ({"max_annual_rate_bp": None}, "the intent states the bound None"),
    ):
        with pytest.raises(RefusedError, match=reason):
            check_writes(Intent("ApproveFinancing", {**request, **asked}), tx)

    def quote_rate(rate: int):
        def change(writes) -> None:
            first(writes, "application")["value"]["quote"]["annual_rate_bp"] = rate

        return change

    def second_application(writes) -> None:
        original = first(writes, "application")
        other = "FA" + "9" * 20
        writes.append(
            {**original, "key": key("application", other), "value": {**original["value"], "id": other}}
        )

    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("application", max_annual_rate_bp=9000), cc), "the application's is 9000"),
            (on_writes(quote_rate(9000), cc), "not approved at the intent's rate"),
            # a second application approved beside it (only the first would be checked)
            (on_writes(second_application, cc), "exactly one application"),
        ],
    )


def test_a_credit_line_is_written_offered_and_answered_as_the_intent_says(consortium):
    """Issue #17 point 10 at the gateway: an offer writes an offered line of the intent's core
    and limit, nothing drawn; an acceptance makes the named line active, not another."""
    from goldticket.services import credit

    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {"core_org_id": "core", "limit_fen": 5_000}
    serial, intent, genuine = endorsed(platform, consortium.bank, "GrantCreditLine", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("credit", status="active"), cc), "status 'active'"),
            (on_writes(set_field("credit", limit_fen=9_000), cc), "limit_fen 9000"),
            (on_writes(set_field("credit", used_fen=1), cc), "used_fen 1"),
        ],
    )
    offered = credit.grant_credit_line(platform, consortium.factor, core_org_id="core", limit_fen=7, pin=PIN)
    request = {"credit_line_id": offered["id"]}
    serial, intent, genuine = endorsed(platform, consortium.core, "AcceptCreditLine", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("credit", status="declined"), cc), "status 'declined'"),
            (on_writes(set_field("credit", id="CLother"), cc), "id 'CLother'"),
        ],
    )


def test_an_issue_must_create_the_intent_s_ticket(consortium):
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "payee_org_id": "tier1",
        "amount_fen": 5_000_000,
        "maturity_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "invoices": [invoice("INV-ATTACK", 5_000_000)],
    }
    serial, intent, genuine = endorsed(platform, consortium.core, "IssueTicket", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("ticket", amount_fen=9_000_000), cc), "amount_fen 9000000"),
            (on_writes(set_field("ticket", holder_org_id="tier3"), cc), "holder_org_id 'tier3'"),
            (on_writes(set_field("ticket", maturity_date="2030-01-01"), cc), "maturity_date"),
            (on_writes(set_field("ticket", status="ACTIVE"), cc), "status 'ACTIVE'"),
            (on_writes(duplicate("ticket", "TKtwin"), cc), "exactly one ticket"),
            (on_writes(add("offer", ("OFx",), {"amount_fen": 1}), cc), "may not write offer"),
        ],
    )


def test_an_issue_must_record_the_term_reason_its_intent_states(consortium):
    """#21: the reason for a term over six months is what the clerk signed, on the ticket."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "payee_org_id": "tier1",
        "amount_fen": 5_000_000,
        "maturity_date": (TODAY + dt.timedelta(days=250)).isoformat(),
        "invoices": [invoice("INV-LONG", 5_000_000)],
        "term_reason": "equipment accepted after 8 months",
    }
    serial, intent, genuine = endorsed(platform, consortium.core, "IssueTicket", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("ticket", term_reason="another reason"), cc), "term reason"),
            (
                on_writes(lambda writes: first(writes, "ticket")["value"].pop("term_reason"), cc),
                "term reason",
            ),
        ],
    )


def test_a_settlement_must_write_the_root_s_statement(consortium, issued_ticket):
    platform = on(consortium.platform, TODAY + dt.timedelta(days=90))
    cc = platform.settings.chaincode
    request = (
        {"root_id": issued_ticket["root_id"]}
        if "root_id" in issued_ticket
        else {"root_id": issued_ticket["id"]}
    )
    serial, intent, genuine = endorsed(platform, consortium.core, "SettleTicket", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(drop("statement"), cc), f"does not change the statement {request['root_id']}"),
            (
                on_writes(
                    add("ticket", ("TKother",), {"id": "TKother", "root_id": "TKelse", "tx_id": "x"}), cc
                ),
                "changes ticket TKother",
            ),
            (on_writes(add("member", ("core",), {"id": "core"}), cc), "may not write member"),
        ],
    )


def test_a_bank_payment_record_must_be_the_one_the_intent_lists(consortium, issued_ticket):
    """#21: the issuer's card records only the bank payments its intent lists, under the intent's
    root and statement; a changed amount, reference, piece or another root is refused."""
    from goldticket.services import settlement

    platform = on(consortium.platform, TODAY + dt.timedelta(days=90))
    cc = platform.settings.chaincode
    statement = settlement.settle_ticket(platform, consortium.core, issued_ticket["id"], pin=PIN)
    (piece,) = statement["paid"]
    entry = {
        "ticket_id": piece["ticket_id"],
        "amount_fen": piece["amount_fen"] - 1,
        "bank_reference": "BK1",
        "booked_on": statement["settled_on"],
    }
    request = {"root_id": statement["root_id"], "statement_id": statement["statement_id"], "entries": [entry]}
    serial, intent, genuine = endorsed(platform, consortium.core, "RecordBankPayments", request)
    assert m.decode_transaction(genuine).response_status < 400

    def paid(**fields: Any):
        def change(writes) -> None:
            record = first(writes, "bankpay")["value"]
            record["payments"][-1].update(fields)

        return change

    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(paid(amount_fen=piece["amount_fen"]), cc), "a payment the intent does not list"),
            (on_writes(paid(bank_reference="BK2"), cc), "a payment the intent does not list"),
            (on_writes(set_field("bankpay", statement_id="ST-other"), cc), "statement_id"),
            (
                on_writes(add("bankpay", ("TKelse", piece["ticket_id"]), {"payments": []}), cc),
                "another ticket than the intent",
            ),
            (on_writes(drop("bankpay"), cc), f"does not change the bankpay {statement['root_id']}"),
        ],
    )


def test_an_issue_must_record_the_grace_days_its_intent_states(consortium):
    """#21: the grace days after maturity are what the clerk signed, on the ticket."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "payee_org_id": "tier1",
        "amount_fen": 5_000_000,
        "maturity_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "invoices": [invoice("INV-GRACE", 5_000_000)],
        "grace_days": 7,
    }
    serial, intent, genuine = endorsed(platform, consortium.core, "IssueTicket", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("ticket", grace_days=30), cc), "grace days"),
            (on_writes(lambda writes: first(writes, "ticket")["value"].pop("grace_days"), cc), "grace days"),
        ],
    )


def test_an_issue_must_record_the_commitment_hash_its_intent_states(consortium):
    """#21: the payment commitment's SHA-256 on the ticket is the one the clerk's card signed."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    stated = hashlib.sha256(b"the commitment the clerk signed").hexdigest()
    request = {
        "payee_org_id": "tier1",
        "amount_fen": 5_000_000,
        "maturity_date": (TODAY + dt.timedelta(days=60)).isoformat(),
        "invoices": [invoice("INV-COMMIT", 5_000_000)],
        "commitment_sha256": stated,
    }
    serial, intent, genuine = endorsed(platform, consortium.core, "IssueTicket", request)
    other = hashlib.sha256(b"another commitment").hexdigest()
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("ticket", commitment_sha256=other), cc), "payment commitment"),
            (
                on_writes(lambda writes: first(writes, "ticket")["value"].pop("commitment_sha256"), cc),
                "payment commitment",
            ),
        ],
    )


def test_an_offer_and_its_acceptance_record_the_documents_their_intents_state(consortium, issued_ticket):
    """#21: the agreement's and notice's hashes on the offer are the transferor's signed ones; the
    acceptance records the countersigned agreement the transferee's card signed."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    agreement, notice, countersigned, other = (
        hashlib.sha256(text.encode()).hexdigest()
        for text in ("agreement", "notice", "countersigned", "other")
    )
    request = {
        "ticket_id": issued_ticket["id"],
        "to_org_id": "tier2",
        "amount_fen": 3000,
        "agreement_sha256": agreement,
        "notice_sha256": notice,
    }
    serial, intent, genuine = endorsed(platform, consortium.tier1, "OfferTransfer", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("offer", agreement_sha256=other), cc), "agreement_sha256"),
            (on_writes(set_field("offer", notice_sha256=other), cc), "notice_sha256"),
            (
                on_writes(lambda writes: first(writes, "offer")["value"].pop("notice_sha256"), cc),
                "notice_sha256",
            ),
        ],
    )
    offer_id = platform.contract.submit(
        platform.signer(consortium.tier1, PIN, "OfferTransfer", request), "OfferTransfer", request
    )[0]["offer_id"]
    accept = {"offer_id": offer_id, "countersigned_sha256": countersigned}
    serial, intent, genuine = endorsed(platform, consortium.tier2, "AcceptOffer", accept)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("offer", countersigned_sha256=other), cc), "countersigned agreement"),
            (on_writes(set_field("offer", status="OPEN"), cc), "status"),
        ],
    )


def test_a_financing_application_carries_the_assignment_hash_its_intent_states(consortium, issued_ticket):
    """#21: the assignment to the bank on the application is the one the holder's card signed."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "ticket_id": issued_ticket["id"],
        "bank_org_id": "bank",
        "amount_fen": 2000,
        "max_annual_rate_bp": 350,
        "assignment_sha256": hashlib.sha256(b"the assignment signed").hexdigest(),
    }
    serial, intent, genuine = endorsed(platform, consortium.tier1, "ApplyFinancing", request)
    other = hashlib.sha256(b"another assignment").hexdigest()
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("application", assignment_sha256=other), cc), "assignment's hash"),
            (
                on_writes(lambda writes: first(writes, "application")["value"].pop("assignment_sha256"), cc),
                "assignment's hash",
            ),
        ],
    )


def test_a_financing_application_carries_the_recourse_its_intent_states(consortium, issued_ticket):
    """#21: with or without recourse (有追索/无追索) is the holder's signed choice."""
    platform = consortium.platform
    cc = platform.settings.chaincode
    request = {
        "ticket_id": issued_ticket["id"],
        "bank_org_id": "bank",
        "amount_fen": 2000,
        "max_annual_rate_bp": 350,
        "recourse": False,
    }
    serial, intent, genuine = endorsed(platform, consortium.tier1, "ApplyFinancing", request)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("application", recourse=True), cc), "recourse choice"),
            (on_writes(lambda w: first(w, "application")["value"].pop("recourse"), cc), "recourse choice"),
        ],
    )


def test_an_approval_gives_the_bank_only_the_recourse_the_holder_signed(consortium, issued_ticket):
    """#21: the recourse record written with an approval is the application's own choice, of the
    financed piece; a bank never gains recourse (有追索) the holder did not sign."""
    from goldticket.services import financing

    platform = consortium.platform
    cc = platform.settings.chaincode
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=2000,
        max_annual_rate_bp=350, recourse=False, pin=PIN, documents=False,
    )  # fmt: skip
    register(platform, consortium.bank, applied["application_id"])
    request = {
        "application_id": applied["application_id"],
        "annual_rate_bp": 300,
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 350,
    }
    serial, intent, genuine = endorsed(platform, consortium.bank, "ApproveFinancing", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("financed", recourse=True), cc), "differs from the application"),
            (on_writes(set_field("financed", application_id="FAother"), cc), "application_id"),
            (on_writes(drop("financed"), cc), "exactly one recourse record"),
            (on_writes(duplicate("financed", "TKother"), cc), "exactly one recourse record"),
            (
                on_writes(lambda w: first(w, "application")["value"].pop("recourse"), cc),
                "application that states none",
            ),
        ],
    )


def test_an_approval_carries_the_countersigned_assignment_its_intent_states(consortium, issued_ticket):
    """#21: the bank's card countersigns the holder's assignment when it approves; the approved
    application written must carry the countersigned file's hash the bank's card was shown, not
    another, not none."""
    from goldticket.services import financing

    platform = consortium.platform
    cc = platform.settings.chaincode
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=2000,
        max_annual_rate_bp=350, recourse=True, pin=PIN,
    )  # fmt: skip
    register(platform, consortium.bank, applied["application_id"])
    request = {
        "application_id": applied["application_id"],
        "annual_rate_bp": 300,
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 350,
        "countersigned_assignment_sha256": hashlib.sha256(b"the assignment countersigned").hexdigest(),
    }
    serial, intent, genuine = endorsed(platform, consortium.bank, "ApproveFinancing", request)
    assert m.decode_transaction(genuine).response_status < 400
    other = hashlib.sha256(b"another countersignature").hexdigest()
    refused_then_genuine(
        platform,
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


def _overdue_platform(consortium, issued_ticket):
    """The platform four days after the ticket's maturity (default grace: 3 days), unsettled."""
    maturity = dt.date.fromisoformat(str(issued_ticket["maturity_date"]))
    return on(consortium.platform, maturity + dt.timedelta(days=4))


def test_an_overdue_mark_writes_the_intent_s_piece_only(consortium, issued_ticket):
    platform = _overdue_platform(consortium, issued_ticket)
    cc = platform.settings.chaincode
    request = {"ticket_id": issued_ticket["id"]}
    serial, intent, genuine = endorsed(platform, consortium.tier1, "MarkOverdue", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("overdue", status="PAID"), cc), "status"),
            (on_writes(add("overdue", ("TKother",), {"ticket_id": "TKother"}), cc), "another ticket"),
            (on_writes(drop("overdue"), cc), f"does not change the overdue {issued_ticket['id']}"),
            (
                on_writes(add("demand", (issued_ticket["id"], "DM1"), {"status": "OPEN"}), cc),
                "may not write demand",
            ),
        ],
    )


def test_a_demand_and_its_close_are_what_the_card_was_shown(consortium, issued_ticket):
    """#21: the demand written names the obligor, amount and document hash of the intent; a
    close has the intent's outcome."""
    from goldticket.services import recourse

    platform = _overdue_platform(consortium, issued_ticket)
    cc = platform.settings.chaincode
    recourse.mark_overdue(platform, consortium.tier1, issued_ticket["id"], pin=PIN)
    request = {
        "ticket_id": issued_ticket["id"],
        "obligor_org_id": "core",
        "amount_fen": 5000,
        "document_sha256": "ab" * 32,
    }
    serial, intent, genuine = endorsed(platform, consortium.tier1, "DemandPayment", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("demand", document_sha256="cd" * 32), cc), "document_sha256"),
            (on_writes(set_field("demand", amount_fen=100_000_000), cc), "amount_fen"),
            (on_writes(set_field("demand", obligor_org_id="tier2"), cc), "obligor_org_id"),
            (on_writes(duplicate("demand", "TKother"), cc), "another ticket"),
            (on_writes(add("overdue", (issued_ticket["id"],), {"status": "X"}), cc), "may not write overdue"),
        ],
    )
    made = platform.submit(consortium.tier1, "DemandPayment", request, pin=PIN).result
    close = {"ticket_id": issued_ticket["id"], "demand_id": made["demand_id"], "outcome": "written_off"}
    serial, intent, genuine = endorsed(platform, consortium.tier1, "CloseDemand", close)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("demand", status="PAID"), cc), "status"),
            (on_writes(set_field("demand", payment_reference="R"), cc), "payment reference"),
            (on_writes(set_field("demand", demand_id="DMother"), cc), "demand_id"),
        ],
    )


# What each function may write, held here independently of intents.WRITABLE so that widening
# a function's kinds there fails this test.
TICKET = {"ticket", "holding"}
SPLIT = TICKET | {"piece"}
MAY_WRITE = {
    "Ping": {"ping"},
    "Bootstrap": {"member", "identity", "member_identity", "config"},
    "RegisterMember": {"member"},
    "SetTermCap": {"config"},
    "UpdateMember": {"member"},
    "RegisterIdentity": {"identity", "member_identity", "member"},  # member: onboarded_tx
    "ApproveIdentity": {"identity"},
    "RevokeIdentity": {"identity"},
    "SuspendIdentity": {"identity"},
    "ResumeIdentity": {"identity"},
    "ApproveRecovery": {"identity"},
    "GrantCreditLine": {"credit"},
    "AcceptCreditLine": {"credit"},
    "DeclineCreditLine": {"credit"},
    "IssueTicket": SPLIT | {"invoice", "invoice_number", "credit", "draws"},
    "AcceptTicket": TICKET,
    "RejectTicket": TICKET | {"invoice", "credit", "draws"},
    "CancelTicket": TICKET | {"invoice", "credit", "draws"},
    "OfferTransfer": TICKET | {"offer"},
    "AcceptOffer": SPLIT | {"offer"},
    "RejectOffer": TICKET | {"offer"},
    "CancelOffer": TICKET | {"offer"},
    "ApplyFinancing": TICKET | {"application"},
    "ApproveFinancing": SPLIT | {"application", "financed"},
    "RejectFinancing": TICKET | {"application"},
    "SettleTicket": TICKET | {"offer", "application", "credit", "statement"},
    "FreezeTicket": TICKET,
    "UnfreezeTicket": TICKET,
    "RecordCertificate": {"certificate", "certificate_ref"},
    "RecordBankPayments": {"bankpay"},
    "MarkOverdue": {"overdue"},
    "DemandPayment": {"demand"},
    "CloseDemand": {"demand", "overdue"},
    "RecordRegistration": {"registration", "registration_invoice"},
    "RequestAccountChange": {"account_change", "member"},
    "ConfirmAccountChange": {"account_change", "member"},
    "RejectAccountChange": {"account_change", "member"},
}
ALL_KINDS = set().union(*MAY_WRITE.values()) | {"other"}


def test_every_function_may_write_only_its_own_kinds(consortium, issued_ticket, tier1_key):
    """For every function, a write set holding one kind it may not write is refused (a function
    allowed to write anything would sign a forged credit line, member or identity)."""
    import dataclasses

    from goldticket.messages.transaction import KeyWrite, ReadWriteSet
    from goldticket.signing.intents import Intent, check_writes

    platform = consortium.platform
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 7}
    proposal = build(platform, tier1_key.identity, "OfferTransfer", request)
    prepared = platform.ledger.endorse(m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes)))
    tx = m.decode_transaction(prepared.bytes)
    signed: list[str] = []
    for function, allowed in sorted(MAY_WRITE.items()):
        for kind in sorted(ALL_KINDS - allowed):
            write = KeyWrite(key(kind, "X1"), json.dumps({"id": "X1"}).encode())
            forged = dataclasses.replace(tx, rwsets=(ReadWriteSet(tx.chaincode, (), (write,)),))
            try:
                check_writes(Intent(function, {}), forged)
            except RefusedError as error:
                assert f"{function} may not write {kind}" in str(error)
            else:
                signed.append(f"{function} writing {kind}")
    assert signed == []


def test_a_function_the_gateway_does_not_know_is_refused(consortium, issued_ticket, tier1_key):
    from goldticket.signing.intents import Intent, check_writes

    platform = consortium.platform
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 7}
    proposal = build(platform, tier1_key.identity, "OfferTransfer", request)
    prepared = platform.ledger.endorse(m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes)))
    with pytest.raises(RefusedError, match="does not sign Whatever"):
        check_writes(Intent("Whatever", {}), m.decode_transaction(prepared.bytes))


def test_an_envelope_must_carry_its_own_proposal_s_header(consortium, issued_ticket):
    """An envelope of another proposal, by another creator, or with the signed proposal's tx id
    but another channel header (here: another timestamp) is not that proposal's envelope."""
    from goldticket.signing.intents import Intent, check_transaction

    platform = consortium.platform
    service = platform.cards.service
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    serial = serial_of(consortium, consortium.tier1)
    identity = service.identity(serial)
    intent = {"function": "OfferTransfer", "request": request}
    proposal = build(platform, identity, "OfferTransfer", request)
    signature = service.sign(
        serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent
    )
    genuine = platform.ledger.endorse(m.signed_proposal(proposal.bytes, signature)).bytes
    _, _, other = endorsed(platform, consortium.tier1, "OfferTransfer", request)
    decoded = m.decode_proposal(proposal.bytes)
    with pytest.raises(RefusedError, match="does not belong to the proposal"):
        check_transaction(other, Intent("OfferTransfer", request), identity, decoded)
    stranger = service.identity(serial_of(consortium, consortium.tier2))
    with pytest.raises(RefusedError, match="does not belong to the proposal"):
        check_transaction(genuine, Intent("OfferTransfer", request), stranger, decoded)

    payload = common_pb2.Payload.FromString(genuine)
    channel_header = common_pb2.ChannelHeader.FromString(payload.header.channel_header)
    channel_header.timestamp.seconds -= 3600
    payload.header.channel_header = channel_header.SerializeToString()
    shifted = payload.SerializeToString()
    with pytest.raises(RefusedError, match="header is not the signed proposal's header"):
        service.sign(serial=serial, pin=PIN, purpose="transaction", message=shifted, intent=intent)
    assert service.sign(serial=serial, pin=PIN, purpose="transaction", message=genuine, intent=intent)


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        (None, "must name a function"),
        ("OfferTransfer", "must name a function"),
        ({"function": 7, "request": {}}, "must name a function"),
        ({"function": "OfferTransfer", "request": ["ticket"]}, "request must be an object"),
        ({"function": "OfferTransfer"}, "request must be an object"),
    ],
)
def test_a_malformed_intent_is_refused_before_the_card(consortium, issued_ticket, intent, reason):
    platform = consortium.platform
    service = platform.cards.service
    serial = serial_of(consortium, consortium.tier1)
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 1000}
    proposal = build(platform, service.identity(serial), "OfferTransfer", request)
    with pytest.raises(RefusedError, match=reason):
        service.sign(serial=serial, pin="000000", purpose="proposal", message=proposal.bytes, intent=intent)
    entry = audit_entries(consortium)[-1]
    assert (entry["result"], entry["code"], entry["tx_id"]) == ("refused", "forbidden", proposal.tx_id)
    assert platform.cards.registry.get(serial).wrong_pins == 0


def test_a_registration_writes_what_the_bank_was_shown(consortium, issued_ticket):
    """#21: the registration written is the application's, with the number, dates, filing hash
    and invoice numbers the card was shown; it replaces no registration the intent does not name."""
    from goldticket.services import financing

    platform = consortium.platform
    cc = platform.settings.chaincode
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=2000,
        max_annual_rate_bp=350, pin=PIN,
    )  # fmt: skip
    application_id = applied["application_id"]
    request = {
        "application_id": application_id,
        "registration_number": "ZD-SHOWN",
        "registry": "中登网",
        "registered_on": TODAY.isoformat(),
        "expires_on": (TODAY + dt.timedelta(days=365)).isoformat(),
        "filing_sha256": "ab" * 32,
        "invoice_numbers": ["INV-0001"],
    }
    serial, intent, genuine = endorsed(platform, consortium.bank, "RecordRegistration", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("registration", registration_number="ZD-OTHER"), cc), "registration_number"),
            (on_writes(set_field("registration", expires_on="2099-12-31"), cc), "expires_on"),
            (on_writes(set_field("registration", filing_sha256="cd" * 32), cc), "filing_sha256"),
            (on_writes(set_field("registration", invoice_numbers=["INV-X"]), cc), "invoice_numbers"),
            (on_writes(drop("registration"), cc), f"does not change the registration {application_id}"),
            (
                on_writes(
                    add(
                        "registration",
                        (application_id, "RGold"),
                        {"registration_id": "RGold", "amended_by": "RGnew"},
                    ),
                    cc,
                ),
                "replaces a registration",
            ),
            (
                on_writes(add("application", (application_id,), {"status": "APPROVED"}), cc),
                "may not write application",
            ),
        ],
    )


def _on_private_writes(change: Callable[[list[Any]], None], namespace: str):
    """An edit of the chaincode's private data writes (their hashes, per collection)."""

    def edit(action_payload, action, rwset) -> None:
        for ns in rwset.ns_rwset:
            if ns.namespace == namespace:
                change(list(ns.collection_hashed_rwset))

    return edit


def _renamed(name: str):
    def change(collections) -> None:
        collections[0].collection_name = name

    return change


def _rekeyed(collections) -> None:
    kv = kv_rwset_pb2.HashedRWSet.FromString(collections[0].hashed_rwset)
    kv.hashed_writes[0].key_hash = m.sha256(b"another key")
    collections[0].hashed_rwset = kv.SerializeToString()


def _both(*edits):
    def edit(action_payload, action, rwset) -> None:
        for one in edits:
            one(action_payload, action, rwset)

    return edit


def test_a_private_approval_writes_its_terms_only_to_the_approving_banks_collection(
    consortium, issued_ticket
):
    """#19: the card signs a private approval only when its one private write is the
    application's terms key in the approving bank's own collection (another collection or another
    key is refused; the test fails without intents._check_private_terms)."""
    from goldticket.ledger.contract import split_request
    from goldticket.services import financing

    platform = consortium.platform
    cc = platform.settings.chaincode
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=issued_ticket["id"], bank_org_id="bank", amount_fen=2000,
        max_annual_rate_bp=350, pin=PIN, documents=False,
    )  # fmt: skip
    register(platform, consortium.bank, applied["application_id"])
    request = {
        "application_id": applied["application_id"],
        "annual_rate_bp": 300,
        "value_date": TODAY.isoformat(),
        "max_annual_rate_bp": 350,
        "terms_salt": "b" * 32,
    }
    service = platform.cards.service
    serial = platform.cards.registry.active_card(consortium.bank.username).serial
    args, transient = split_request("ApproveFinancing", request)
    assert transient  # the rate travels privately
    proposal = build(
        platform, service.identity(serial), "ApproveFinancing", request, args=args, transient=transient
    )
    intent = {"function": "ApproveFinancing", "request": request}
    signature = service.sign(
        serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent
    )
    genuine = platform.ledger.endorse(m.signed_proposal(proposal.bytes, signature)).bytes
    assert m.decode_transaction(genuine).response_status < 400
    _to_core = on_writes(lambda w: first(w, "application")["value"].update(terms="terms-CoreMSP"), cc)
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (_on_private_writes(_renamed("terms-CoreMSP"), cc), "exactly its application's terms"),
            (
                _both(_to_core, _on_private_writes(_renamed("terms-CoreMSP"), cc)),
                "approving bank's own collection",
            ),
            (_on_private_writes(_rekeyed, cc), "exactly its application's terms"),
        ],
    )


def test_an_account_change_writes_what_the_card_was_shown(consortium):
    """#21: the admin's request writes a PENDING change of the stated hash and leaves the
    member's KYC hash alone; the operator's confirmation writes the member's hash it stated."""
    from goldticket.services import members

    platform = consortium.platform
    old, new = "aa" * 32, "bb" * 32
    members.register_member(
        platform, platform.desk(), member_id="acme", name="阿克米", role="supplier", kyc_sha256=old
    )
    admin = members.add_user(
        platform, platform.desk(), member_id="acme", username="acme.admin", role="admin", pin=PIN
    )
    cc = platform.settings.chaincode
    serial, intent, genuine = endorsed(platform, admin, "RequestAccountChange", {"kyc_sha256": new})
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("member", kyc_sha256=new), cc), "only the operator's confirmation"),
            (on_writes(set_field("account_change", kyc_sha256="cc" * 32), cc), "kyc_sha256"),
            (on_writes(set_field("account_change", status="CONFIRMED"), cc), "status"),
            (on_writes(set_field("member", pending_account_change=None), cc), "pending_account_change"),
            (on_writes(drop("member"), cc), "exactly one member"),
        ],
    )
    change = platform.submit(admin, "RequestAccountChange", {"kyc_sha256": new}, pin=PIN).result
    from goldticket.services import cards

    # a second operator admin whose card's PIN is the tests' PIN (approved by the first)
    operator = members.add_user(
        platform, platform.desk(), member_id="operator", username="op.two", role="admin", pin=PIN
    )
    (card,) = cards.cards_of(platform, "op.two")
    cards.approve_card(platform, platform.actor("operator"), card["serial"], platform.settings.operator_pin)
    request = {"member_id": "acme", "change_id": change["id"], "kyc_sha256": new}
    serial, intent, genuine = endorsed(platform, operator, "ConfirmAccountChange", request)
    assert m.decode_transaction(genuine).response_status < 400
    refused_then_genuine(
        platform,
        serial,
        intent,
        genuine,
        [
            (on_writes(set_field("member", kyc_sha256="cc" * 32), cc), "kyc_sha256"),
            (on_writes(set_field("account_change", status="REJECTED"), cc), "status"),
            (on_writes(set_field("member", pending_account_change=change["id"]), cc), "still names"),
        ],
    )
