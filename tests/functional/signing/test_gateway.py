"""The signing gateway signs Fabric messages that do what the intent says, and nothing else."""

from __future__ import annotations

import base64
import dataclasses
import json
import urllib.request

import pytest
from support import OPERATOR_PIN, PIN, free_port

from goldticket import messages as m
from goldticket.services import Platform, transfers
from goldticket.signing.audit import verify
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import (
    CardLockedError,
    CardNotFoundError,
    RefusedError,
    UnauthenticatedError,
    WrongPinError,
)
from goldticket.signing.gateway import GatewayServer

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


def serial_of(consortium, actor):
    return consortium.platform.cards.registry.active_card(actor.username).serial


def offer_proposal(consortium, ticket_id, creator, amount=1000, function="OfferTransfer"):
    request = {"ticket_id": ticket_id, "to_org_id": "tier2", "amount_fen": amount}
    return request, m.build_proposal(
        channel_id="goldticket",
        chaincode="goldticket",
        function=function,
        args=[json.dumps(request, sort_keys=True)],
        creator=creator,
    )


def test_scenario_through_the_gateway(consortium, issued_ticket, gateway):
    remote = Platform(
        dataclasses.replace(consortium.platform.settings, signer_url=gateway.url, signer_secret=SECRET),
        consortium.platform.ledger,
        consortium.platform.keystore,
        consortium.platform.cards,
    )
    offer = transfers.offer_transfer(
        remote, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=500, pin=PIN
    )
    moved = transfers.accept_offer(remote, consortium.tier2, offer["offer_id"], pin=PIN)
    assert moved["transferred"]["amount_fen"] == 500


def test_an_unauthenticated_caller_is_refused(consortium, gateway):
    serial = serial_of(consortium, consortium.tier1)
    with pytest.raises(UnauthenticatedError):
        GatewayClient(gateway.url, "not the secret at all").identity(serial)
    request = urllib.request.Request(gateway.url + f"/v1/cards/{serial}/identity")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    refused.value.close()
    assert refused.value.code == 401


def test_a_proposal_whose_creator_is_not_the_card_is_refused(consortium, issued_ticket, client):
    serial = serial_of(consortium, consortium.tier1)
    other = client.identity(serial_of(consortium, consortium.tier2))
    request, proposal = offer_proposal(consortium, issued_ticket["id"], other)
    with pytest.raises(RefusedError, match="creator"):
        client.sign(
            serial=serial,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": request},
        )


def test_a_proposal_whose_function_or_arguments_differ_is_refused(consortium, issued_ticket, client):
    serial = serial_of(consortium, consortium.tier1)
    identity = client.identity(serial)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity, function="CancelOffer")
    with pytest.raises(RefusedError, match="calls CancelOffer"):
        client.sign(
            serial=serial,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": request},
        )
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity, amount=999_999)
    with pytest.raises(RefusedError, match="arguments"):
        client.sign(
            serial=serial,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": {**request, "amount_fen": 1000}},
        )
    with pytest.raises(RefusedError):
        client.sign(
            serial=serial,
            pin=PIN,
            purpose="digest",
            message=b"\x00" * 32,
            intent={"function": "OfferTransfer", "request": request},
        )


def test_a_swapped_transaction_gets_no_signature(consortium, issued_ticket, client):
    """A portal or peer that swaps the endorsed transaction for another is refused."""
    ledger = consortium.platform.ledger
    serial = serial_of(consortium, consortium.tier1)
    identity = client.identity(serial)
    intent_request, proposal = offer_proposal(consortium, issued_ticket["id"], identity, amount=1000)
    intent = {"function": "OfferTransfer", "request": intent_request}
    signature = client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    prepared = ledger.endorse(m.signed_proposal(proposal.bytes, signature))
    # another proposal for a larger amount, endorsed too: its envelope is not this intent's
    other_request, other = offer_proposal(consortium, issued_ticket["id"], identity, amount=90_000_000)
    other_signature = client.sign(
        serial=serial,
        pin=PIN,
        purpose="proposal",
        message=other.bytes,
        intent={"function": "OfferTransfer", "request": other_request},
    )
    swapped = ledger.endorse(m.signed_proposal(other.bytes, other_signature))
    with pytest.raises(RefusedError):
        client.sign(serial=serial, pin=PIN, purpose="transaction", message=swapped.bytes, intent=intent)
    # the genuine envelope is signed and commits
    envelope_signature = client.sign(
        serial=serial, pin=PIN, purpose="transaction", message=prepared.bytes, intent=intent
    )
    ledger.submit(m.signed_envelope(prepared.bytes, envelope_signature))
    assert ledger.commit_status(prepared.tx_id).ok


def test_wrong_pins_lock_the_card_on_the_sixth_try(consortium, issued_ticket, client):
    serial = serial_of(consortium, consortium.tier1)
    identity = client.identity(serial)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity)
    intent = {"function": "OfferTransfer", "request": request}
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongPinError) as wrong:
            client.sign(
                serial=serial, pin="000000", purpose="proposal", message=proposal.bytes, intent=intent
            )
        assert f"{left} tries left" in str(wrong.value)
    with pytest.raises(CardLockedError):
        client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    consortium.platform.cards.registry.unlock(serial)
    assert client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)


def test_oversized_and_malformed_bodies_are_refused(gateway):
    def post(body: bytes):
        request = urllib.request.Request(
            gateway.url + "/v1/sign",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        with refused.value as error:
            return error.code, json.loads(error.read())

    code, body = post(b"{" + b" " * (300 * 1024) + b"}")
    assert code == 400 and body["error"] == "invalid_input"
    code, body = post(b'{"serial": "x"}')
    assert code == 400 and body["error"] == "invalid_input"
    code, body = post(
        json.dumps(
            {"serial": "x", "pin": "1", "purpose": "proposal", "message": "!!notbase64", "intent": {}}
        ).encode()
    )
    assert code == 400


def test_the_audit_log_records_every_request_and_detects_tampering(consortium, issued_ticket, client):
    serial = serial_of(consortium, consortium.tier1)
    identity = client.identity(serial)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity)
    intent = {"function": "OfferTransfer", "request": request}
    client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    with pytest.raises(WrongPinError):
        client.sign(serial=serial, pin="999999", purpose="proposal", message=proposal.bytes, intent=intent)
    path = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"
    text = path.read_text(encoding="utf-8")
    assert PIN not in text and OPERATOR_PIN not in text and "999999" not in text
    lines = text.splitlines()
    last_two = [json.loads(line)["entry"] for line in lines[-2:]]
    assert [e["result"] for e in last_two] == ["signed", "refused"]
    assert last_two[0]["digest"] == m.sha256(proposal.bytes).hex()
    assert verify(path).ok and verify(path).entries == len(lines)
    middle = json.loads(lines[len(lines) // 2])
    middle["entry"]["result"] = "refused" if middle["entry"].get("result") == "signed" else "signed"
    lines[len(lines) // 2] = json.dumps(middle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = verify(path)
    assert not result.ok and result.first_bad_line == len(lines) // 2 + 1


def test_signatures_verify_under_the_card_certificate(consortium, issued_ticket, client):
    serial = serial_of(consortium, consortium.tier1)
    identity = client.identity(serial)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity)
    signature = client.sign(
        serial=serial,
        pin=PIN,
        purpose="proposal",
        message=proposal.bytes,
        intent={"function": "OfferTransfer", "request": request},
    )
    m.verify_signature(identity.certificate_pem, proposal.bytes, signature)
    assert base64.b64encode(signature)


def test_each_card_is_rate_limited(consortium, issued_ticket):
    from goldticket.signing.service import RateLimitedError, SigningService

    cards = consortium.platform.cards
    service = SigningService(
        cards.registry, cards.factories, cards.service.audit, rate_per_second=0.1, burst=3
    )
    serial = serial_of(consortium, consortium.tier1)
    identity = service.identity(serial)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], identity)
    intent = {"function": "OfferTransfer", "request": request}
    for _ in range(3):
        service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    with pytest.raises(RateLimitedError):
        service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    other = serial_of(consortium, consortium.tier2)
    other_request, other_proposal = offer_proposal(consortium, issued_ticket["id"], service.identity(other))
    with pytest.raises(RefusedError):  # another card is not held back (refused only for its intent)
        service.sign(
            serial=other,
            pin=PIN,
            purpose="proposal",
            message=proposal.bytes,
            intent={"function": "OfferTransfer", "request": request},
        )


def test_an_unreachable_gateway_is_a_typed_error(consortium, issued_ticket):

    from goldticket.signing.errors import GatewayUnavailableError

    port = free_port()  # nothing listens there
    remote = Platform(
        dataclasses.replace(
            consortium.platform.settings, signer_url=f"http://127.0.0.1:{port}", signer_secret=SECRET
        ),
        consortium.platform.ledger,
        consortium.platform.keystore,
        consortium.platform.cards,
    )
    height = remote.ledger.height()
    with pytest.raises(GatewayUnavailableError):
        transfers.offer_transfer(
            remote, consortium.tier1, ticket_id=issued_ticket["id"], to_org_id="tier2", amount_fen=1, pin=PIN
        )
    assert remote.ledger.height() == height


def test_parallel_wrong_pins_cannot_try_more_than_five(consortium, issued_ticket):
    import threading

    service = consortium.platform.cards.service
    serial = serial_of(consortium, consortium.tier1)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], service.identity(serial))
    intent = {"function": "OfferTransfer", "request": request}
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def guess():
        start.wait()
        try:
            service.sign(
                serial=serial, pin="000000", purpose="proposal", message=proposal.bytes, intent=intent
            )
        except (WrongPinError, CardLockedError) as error:
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("WrongPinError") == 5 and outcomes.count("CardLockedError") == 7
    assert consortium.platform.cards.registry.get(serial).wrong_pins == 5


def test_one_proposal_gets_one_envelope_signature(consortium, issued_ticket, client):
    ledger = consortium.platform.ledger
    serial = serial_of(consortium, consortium.tier1)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], client.identity(serial))
    intent = {"function": "OfferTransfer", "request": request}
    signature = client.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
    prepared = ledger.endorse(m.signed_proposal(proposal.bytes, signature))
    client.sign(serial=serial, pin=PIN, purpose="transaction", message=prepared.bytes, intent=intent)
    with pytest.raises(RefusedError, match="no proposal"):
        client.sign(serial=serial, pin=PIN, purpose="transaction", message=prepared.bytes, intent=intent)


def test_a_write_set_beyond_the_intent_is_refused(consortium, issued_ticket, tier1_key):
    """An endorser that adds writes the intent does not imply (here: a different function's
    write set presented under an AcceptTicket intent) gets no signature."""
    from goldticket.signing.intents import Intent, check_writes

    ledger = consortium.platform.ledger
    request = {"ticket_id": issued_ticket["id"], "to_org_id": "tier2", "amount_fen": 7}
    _, proposal = offer_proposal(consortium, issued_ticket["id"], tier1_key.identity, amount=7)
    prepared = ledger.endorse(m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes)))
    tx = m.decode_transaction(prepared.bytes)
    check_writes(Intent("OfferTransfer", request), tx)
    with pytest.raises(RefusedError, match="may not write offer"):
        check_writes(Intent("AcceptTicket", {"ticket_id": issued_ticket["id"]}), tx)
    with pytest.raises(RefusedError, match="does not sign"):
        check_writes(Intent("Whatever", {}), tx)


def test_the_ledger_refuses_a_proposal_far_from_its_clock(consortium, tier1_key):
    import datetime as dt

    from chaincode import GoldTicketContract
    from goldticket.ledger import EndorseError
    from goldticket.ledger.local.peer import LocalLedger

    strict = LocalLedger(consortium.platform.ledger._store.path, GoldTicketContract())
    try:
        for shift in (dt.timedelta(days=1), -dt.timedelta(hours=1)):
            proposal = m.build_proposal(
                channel_id="goldticket",
                chaincode="goldticket",
                function="Ping",
                args=["{}"],
                creator=tier1_key.identity,
                timestamp=dt.datetime.now(dt.UTC) + shift,
            )
            with pytest.raises(EndorseError, match="time window"):
                strict.evaluate(m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes)))
        proposal = m.build_proposal(
            channel_id="goldticket",
            chaincode="goldticket",
            function="Ping",
            args=["{}"],
            creator=tier1_key.identity,
        )
        assert strict.evaluate(m.signed_proposal(proposal.bytes, tier1_key.sign(proposal.bytes)))
    finally:
        strict.close()


def test_parallel_right_pins_never_lock_the_card(consortium, issued_ticket):
    import threading

    service = consortium.platform.cards.service
    serial = serial_of(consortium, consortium.tier1)
    request, proposal = offer_proposal(consortium, issued_ticket["id"], service.identity(serial))
    intent = {"function": "OfferTransfer", "request": request}
    failures: list[Exception] = []
    start = threading.Barrier(10)

    def sign():
        start.wait()
        try:
            service.sign(serial=serial, pin=PIN, purpose="proposal", message=proposal.bytes, intent=intent)
        except Exception as error:  # any failure is the finding
            failures.append(error)

    threads = [threading.Thread(target=sign) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == [] and consortium.platform.cards.registry.get(serial).wrong_pins == 0


def test_a_cards_identity_is_fetched_once_per_client(consortium, gateway):
    """A card's identity (MSP and certificate) is set once, when the card is issued, and never
    changes under its serial (issue #22: one identity request per submission was a third of the
    gateway's traffic). A card not issued is still refused, and not remembered."""
    serial = serial_of(consortium, consortium.tier1)
    client = GatewayClient(gateway.url, SECRET)
    audit = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"

    def served() -> int:
        lines = [json.loads(line)["entry"] for line in audit.read_text(encoding="utf-8").splitlines()]
        return sum(1 for entry in lines if entry.get("purpose") == "identity" and entry.get("card") == serial)

    first = client.identity(serial)
    assert served() == 1
    assert client.identity(serial) == first and served() == 1
    assert GatewayClient(gateway.url, SECRET).identity(serial) == first and served() == 2
    with pytest.raises(CardNotFoundError):
        client.identity(serial + "X")
    with pytest.raises(CardNotFoundError):
        client.identity(serial + "X")
