"""The last step of ``up``: a real transaction (Ping) endorsed by a majority of organisations,
ordered and committed through the Gateway. For a while after a chaincode commit or a peer
restart the Gateway answers "no combination of peers"; this retries until it commits."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.ledger import Contract, LedgerError
from goldticket.ledger.fabric import ConnectionProfile, FabricLedger
from goldticket.messages import Identity
from goldticket.signing import SoftwareSigner

from .errors import NetworkError
from .layout import Layout


def admin_signer(layout: Layout, msp_id: str) -> SoftwareSigner:
    """The organisation admin's software identity from the network's crypto folder."""
    msp = layout.admin_dir(msp_id) / "msp"
    key = serialization.load_pem_private_key((msp / "keystore" / "key.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return SoftwareSigner(key, Identity(msp_id, (msp / "signcerts" / "cert.pem").read_bytes()))


def ping(layout: Layout, timeout: float = 90.0, chaincode: str | None = None) -> str:
    """Submit Ping until it commits VALID; returns its transaction id."""
    signer = admin_signer(layout, layout.peers[0].msp_id)
    profile = ConnectionProfile.load(layout.profile)
    if chaincode:
        profile = profile.with_chaincode(chaincode)
    ledger = FabricLedger(profile, signer)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                _, tx_id, _ = Contract(ledger).submit(signer, "Ping", {})
                return tx_id
            except LedgerError as error:
                if time.monotonic() > deadline:
                    raise NetworkError(f"no transaction committed through the Gateway: {error}") from error
                time.sleep(0.5)
    finally:
        ledger.close()
