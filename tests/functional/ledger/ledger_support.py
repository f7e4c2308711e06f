"""Helpers for the embedded ledger's own tests: a bare ledger trusting one org CA, a software
signer from that CA, and hand-built transactions (what an attacker can build)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chaincode import GoldTicketContract
from goldticket import messages as m
from goldticket.ledger import Contract
from goldticket.ledger.local.peer import PEER_MSP, LocalLedger
from goldticket.signing import OrgCA, SoftwareSigner, new_member_key


def bare_ledger(data_dir: Path, bootstrap: bool = True) -> tuple[LocalLedger, SoftwareSigner]:
    """A new embedded ledger under ``data_dir`` and a signer whose certificate its CA issued
    (the operator's first admin, registered by Bootstrap; not yet with ``bootstrap`` False)."""
    ca = OrgCA.create("OperatorMSP", "Test Operator")
    ledger = LocalLedger.create(
        data_dir / "ledger.sqlite",
        {"OperatorMSP": ca.certificate_pem},
        GoldTicketContract(),
        time_window=None,
    )
    key = new_member_key()
    cert = ca.issue(
        key.public_key(),
        common_name="pinger",
        attributes={"member": "operator", "role": "admin", "user": "pinger"},
    )
    signer = SoftwareSigner(key, m.Identity("OperatorMSP", cert))
    # Ping writes only for the operator's registered users: the signer bootstraps the ledger
    if bootstrap:
        Contract(ledger).submit(signer, "Bootstrap", {"id": "operator", "name": "Test Operator"})
    return ledger, signer


def ping(ledger: LocalLedger, signer: SoftwareSigner, key: str) -> str:
    """Commit Ping writing ``ping/<key>``; returns the tx id."""
    _, tx_id, _ = Contract(ledger).submit(signer, "Ping", {"key": key})
    return tx_id


def signed_proposal(ledger: LocalLedger, signer: SoftwareSigner, function: str, request: dict) -> tuple:
    proposal = m.build_proposal(
        channel_id=ledger.channel_id,
        chaincode=ledger.chaincode,
        function=function,
        args=[json.dumps(request, sort_keys=True)],
        creator=signer.identity,
    )
    return m.decode_proposal(proposal.bytes), m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes))


def endorsed_envelope(ledger: LocalLedger, signer: SoftwareSigner, function: str, request: dict):
    """An honestly endorsed transaction, signed by its creator, not yet submitted."""
    _, signed = signed_proposal(ledger, signer, function, request)
    prepared = ledger.endorse(signed)
    return m.signed_envelope(prepared.bytes, signer.sign(prepared.bytes)), prepared.tx_id


def peer_key(ledger_file: Path) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    """The embedded peer's key and serialized identity, as anyone who can read the file gets them."""
    import sqlite3

    conn = sqlite3.connect(ledger_file)
    try:
        rows = dict(conn.execute("SELECT name, value FROM meta WHERE name IN ('peer_key', 'peer_cert')"))
    finally:
        conn.close()
    key = serialization.load_pem_private_key(rows["peer_key"], password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, m.Identity(PEER_MSP, rows["peer_cert"]).serialize()


def forged_envelope(
    ledger: LocalLedger,
    creator: SoftwareSigner,
    function: str,
    request: dict,
    *,
    writes: tuple[m.KeyWrite, ...],
    endorsements: list[tuple[bytes, bytes]] | None = None,
    endorser_key: ec.EllipticCurvePrivateKey | None = None,
    endorser: bytes | None = None,
):
    """A transaction of ``function(request)`` by ``creator`` whose write set is ``writes``
    (whatever the chaincode would write), endorsed by ``endorser_key`` as ``endorser`` or
    carrying the given ``endorsements`` verbatim, and signed by the creator."""
    decoded, _ = signed_proposal(ledger, creator, function, request)
    response_payload = m.build_response_payload(
        decoded,
        status=200,
        message="",
        payload=b"{}",
        rwset=m.ReadWriteSet(ledger.chaincode, (), writes),
    )
    if endorsements is None:
        assert endorser_key is not None and endorser is not None
        signature = m.to_low_s(
            endorser_key.sign(m.endorsement_message(response_payload, endorser), ec.ECDSA(hashes.SHA256()))
        )
        endorsements = [(endorser, signature)]
    payload = m.build_transaction_payload(decoded, response_payload, endorsements)
    return m.signed_envelope(payload, creator.sign(payload)), decoded.tx_id
