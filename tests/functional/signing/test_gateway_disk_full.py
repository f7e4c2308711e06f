"""A full disk under the signing gateway (defect 5 of docs/operations.md, "Reliability drills"):
the gateway refused the signature as audit_failed ("the signing gateway's disk is full;
nothing was signed"), but its client knew no such code and raised a plain SigningError, which
the web answered 502 signing_failed. Now the client raises AuditLogError (the web's 503 with
Retry-After) and the gateway itself answers 503. The disk is "full" for the card tokens here
because the room they must keep (pkcs11.DISK_RESERVE_BYTES) is set above any disk's free
space: the real gateway, card and token then refuse as on a full disk, before SoftHSM2 would
rewrite (and, with no room, empty) a token file. The real full disk: web/test_full_disk.py."""

from __future__ import annotations

import dataclasses
import errno

import pytest
from support import PIN

from goldticket.services import Platform, transfers
from goldticket.signing.cards import pkcs11 as pkcs11_cards
from goldticket.signing.client import GatewayClient
from goldticket.signing.errors import AuditLogError
from goldticket.signing.gateway import STATUS, GatewayServer

pytestmark = pytest.mark.functional
SECRET = "a deployment secret of some length"


def test_a_full_disk_under_the_gateway_is_audit_failed_503_not_signing_failed(
    consortium, issued_ticket, monkeypatch
):
    if consortium.platform.cards.default_backend != "pkcs11":
        pytest.skip("the card tokens' disk: SoftHSM2 cards only")
    server = GatewayServer(("127.0.0.1", 0), consortium.platform.cards.service, SECRET.encode())
    server.start_in_thread()
    try:
        remote = Platform(
            dataclasses.replace(consortium.platform.settings, signer_url=server.url, signer_secret=SECRET),
            consortium.platform.ledger,
            consortium.platform.keystore,
            consortium.platform.cards,
        )
        height = consortium.platform.ledger.height()
        monkeypatch.setattr(pkcs11_cards, "DISK_RESERVE_BYTES", 2**62)
        with pytest.raises(AuditLogError) as refused:
            transfers.offer_transfer(
                remote,
                consortium.tier1,
                ticket_id=issued_ticket["id"],
                to_org_id="tier2",
                amount_fen=500,
                pin=PIN,
            )
        assert "disk is full" in str(refused.value)
        assert consortium.platform.ledger.height() == height  # nothing signed, nothing written
        monkeypatch.undo()  # room again: the same card signs
        offer = transfers.offer_transfer(
            remote,
            consortium.tier1,
            ticket_id=issued_ticket["id"],
            to_org_id="tier2",
            amount_fen=500,
            pin=PIN,
        )
        assert offer["offer_id"]
    finally:
        server.shutdown()
        server.server_close()
    assert STATUS["audit_failed"] == 503


def test_an_identity_whose_audit_line_cannot_be_written_is_audit_failed_not_internal_error(
    consortium, monkeypatch
):
    """GET /v1/cards/<serial>/identity audits the identity it served; on a full disk that line
    cannot be written, and the refusal escaped to the gateway's last resort: 500
    internal_error, which the web answered 502 (seen in test_full_disk.py). The append is made
    to fail as the disk does (ENOSPC), the rest is the real gateway and client."""
    service = consortium.platform.cards.service
    server = GatewayServer(("127.0.0.1", 0), service, SECRET.encode())
    server.start_in_thread()
    serial = consortium.platform.cards.registry.active_card(consortium.tier1.username).serial

    def full(entry: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    try:
        monkeypatch.setattr(service.audit, "append", full)
        with pytest.raises(AuditLogError):
            GatewayClient(server.url, SECRET).identity(serial)
        monkeypatch.undo()
        assert GatewayClient(server.url, SECRET).identity(serial).msp_id
    finally:
        server.shutdown()
        server.server_close()
