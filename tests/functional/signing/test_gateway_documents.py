"""#21 attacks on the signing gateway's document signatures (purpose ``document``): the gateway
computes the digest of the document's signed byte ranges itself, reads the terms the document
carries, and signs only signed attributes whose messageDigest is that digest, for an intent that
shows exactly those terms and that digest, with a card of the document's signer. Each attack is
refused over HTTP, signs nothing and leaves an audit line; each fails when its check is removed.
The honest request is then signed, and its signature verifies with the card's key."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from support import PIN, TODAY

from goldticket import certificates as pdf
from goldticket.signing.client import GatewayClient
from goldticket.signing.documents import byte_range_digest, read_terms
from goldticket.signing.errors import RefusedError
from goldticket.signing.gateway import GatewayServer

pytestmark = pytest.mark.functional
SECRET = "a deployment secret of some length"


@pytest.fixture
def client(consortium):
    server = GatewayServer(("127.0.0.1", 0), consortium.platform.cards.service, SECRET.encode())
    server.start_in_thread()
    yield GatewayClient(server.url, SECRET)
    server.shutdown()
    server.server_close()


class _Captured(Exception):
    def __init__(self, signed_attributes: bytes, prepared: bytes) -> None:
        super().__init__("captured")
        self.signed_attributes, self.prepared = signed_attributes, prepared


def terms_of(member: str = "core", amount_fen: int = 12_345_678) -> dict[str, Any]:
    return {
        "kind": "payment_commitment",
        "document_id": "PCATTACK0000001",
        "signer_org_id": member,
        "parties": {"payer": "core", "payee": "tier1"},
        "amount_fen": amount_fen,
        "maturity_date": (TODAY + dt.timedelta(days=90)).isoformat(),
        "invoices": ["INV-ATTACK"],
        "dated": TODAY.isoformat(),
    }


def prepared(consortium, actor, terms: dict[str, Any]) -> tuple[bytes, bytes]:
    """(signed attributes, prepared PDF) as the platform sends them for ``actor``'s card."""
    platform = consortium.platform
    identity = platform.cards.service.identity(serial(consortium, actor))

    def capture(signed_attributes: bytes, document: bytes) -> bytes:
        raise _Captured(signed_attributes, document)

    with pytest.raises(_Captured) as captured:
        pdf.sign_with_card(
            pdf.warm(),
            terms,
            certificate_pem=identity.certificate_pem,
            ca_pem=platform.keystore.trusted()[identity.msp_id],
            sign=capture,
            field_name="GoldTicketIssuer",
            reason="attack",
        )
    return captured.value.signed_attributes, captured.value.prepared


def serial(consortium, actor) -> str:
    return consortium.platform.cards.registry.active_card(actor.username).serial


def shown(document: bytes) -> dict[str, Any]:
    return {
        "function": "SignDocument",
        "request": {**read_terms(document), "digest": byte_range_digest(document).hex()},
    }


def audit(consortium) -> list[dict[str, Any]]:
    path = consortium.platform.settings.data_dir / "cards" / "audit.jsonl"
    return [json.loads(line)["entry"] for line in path.read_text(encoding="utf-8").splitlines()]


def sign(client, consortium, actor, attributes, document, intent, purpose="document") -> bytes:
    return client.sign(
        serial=serial(consortium, actor), pin=PIN, purpose=purpose, message=attributes, intent=intent,
        document=document,
    )  # fmt: skip


def refused(client, consortium, actor, attributes, document, intent, words: str, **kwargs: Any) -> None:
    before = len(audit(consortium))
    with pytest.raises(RefusedError, match=words):
        sign(client, consortium, actor, attributes, document, intent, **kwargs)
    entries = audit(consortium)[before:]
    assert [entry["result"] for entry in entries] == ["refused"]
    assert consortium.platform.cards.registry.tries_left(serial(consortium, actor)) > 0


def test_the_honest_document_is_signed_by_the_card(client, consortium):
    attributes, document = prepared(consortium, consortium.core, terms_of())
    signature = sign(client, consortium, consortium.core, attributes, document, shown(document))
    identity = consortium.platform.cards.service.identity(serial(consortium, consortium.core))
    key = x509.load_pem_x509_certificate(identity.certificate_pem).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, attributes, ec.ECDSA(hashes.SHA256()))
    entry = audit(consortium)[-1]
    assert entry["result"] == "signed" and entry["kind"] == "payment_commitment"
    assert entry["intent"]["request"]["amount_fen"] == 12_345_678  # what was shown is audited


def test_signed_attributes_over_another_digest_are_refused(client, consortium):
    attributes, document = prepared(consortium, consortium.core, terms_of())
    digest = byte_range_digest(document)
    other = attributes.replace(digest, hashlib.sha256(b"another document").digest())
    assert other != attributes
    refused(client, consortium, consortium.core, other, document, shown(document), "messageDigest differs")


def test_a_digest_the_user_was_not_shown_is_refused(client, consortium):
    """The intent shows another document's digest; the document and attributes agree."""
    attributes, document = prepared(consortium, consortium.core, terms_of())
    intent = shown(document)
    intent["request"]["digest"] = hashlib.sha256(b"the document shown").hexdigest()
    refused(client, consortium, consortium.core, attributes, document, intent, "digest differs")


def test_a_document_changed_after_it_was_shown_is_refused(client, consortium):
    attributes, document = prepared(consortium, consortium.core, terms_of())
    intent = shown(document)
    changed = document.replace(b"GoldTicket", b"GoldTickeT", 1)
    assert changed != document
    refused(client, consortium, consortium.core, attributes, changed, intent, "digest differs")


def test_terms_other_than_the_documents_are_refused(client, consortium):
    """The intent shows a smaller amount than the document commits to."""
    attributes, document = prepared(consortium, consortium.core, terms_of())
    intent = shown(document)
    intent["request"]["amount_fen"] = 1_00
    refused(client, consortium, consortium.core, attributes, document, intent, "says otherwise")


def test_a_card_of_another_member_is_refused(client, consortium):
    """tier1's card may not sign the issuer's commitment (its terms name core as signer)."""
    attributes, document = prepared(consortium, consortium.tier1, terms_of())
    refused(
        client,
        consortium,
        consortium.tier1,
        attributes,
        document,
        shown(document),
        "not the document's signer",
    )


def test_a_kind_the_gateway_does_not_sign_is_refused(client, consortium):
    terms = {**terms_of(), "kind": "blank_cheque"}
    attributes, document = prepared(consortium, consortium.core, terms)
    refused(
        client, consortium, consortium.core, attributes, document, shown(document), "does not sign documents"
    )


def test_another_function_or_no_document_is_refused(client, consortium):
    attributes, document = prepared(consortium, consortium.core, terms_of())
    intent = {**shown(document), "function": "IssueTicket"}
    refused(client, consortium, consortium.core, attributes, document, intent, "SignDocument")
    refused(client, consortium, consortium.core, attributes, None, shown(document), "prepared PDF")


def test_a_filled_placeholder_is_refused(client, consortium):
    """A document whose signature slot already holds bytes is not a document being signed."""
    attributes, document = prepared(consortium, consortium.core, terms_of())
    start = document.index(b"/Contents <") + len(b"/Contents <")
    filled = document[:start] + b"1" + document[start + 1 :]
    refused(client, consortium, consortium.core, attributes, filled, shown(document), "placeholder")
