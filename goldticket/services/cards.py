"""The operator's card desk: open (开卡), issue (发卡), report lost, replace (补卡), eliminate
(销卡) and unlock a member's BSIM card.

Issuing generates a BIP-39 seed, derives the P-256 key by SLIP-0010, puts it into the card as
a never-extractable key, has the member's org CA certify it with member and role attributes,
registers the identity on the ledger and keeps the seed only as a backup encrypted twice
(operator password, then the user's PIN). A real BSIM derives inside the card; see
docs/cards.md. Replacing recovers the same key from the backup (both passwords needed), so the
certificate and the ledger identity stay, and the old card never signs again.
"""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.settings import ROLE_MSP
from goldticket.signing.backup import open_backup, seal
from goldticket.signing.errors import CardStateError
from goldticket.signing.registry import CardRecord
from goldticket.signing.seed import derive_private_value, new_mnemonic, public_key_of

from .context import Actor, Desk
from .pins import check_pin
from .platform import Platform


def _member(platform: Platform, member_id: str) -> dict[str, Any]:
    return platform.evaluate("GetMember", {"id": member_id})  # type: ignore[no-any-return]


def _strict(platform: Platform) -> bool:
    return platform.settings.env == "prod"


def open_card(platform: Platform, desk: Desk, username: str, backend: str | None = None) -> dict[str, Any]:
    """Bind a blank card to a user (开卡). Returns the card's public record. A user has one live
    card at a time: a second one is refused (a lost or broken card is replaced, 补卡)."""
    user = platform.actor(username)
    _refuse_desks_own(desk, user.username)
    for live in platform.cards.registry.cards_of(user.username):
        if live.status in ("OPENED", "ACTIVE", "SUSPENDED"):
            raise d.StateConflictError(
                f"{user.username} already has card {live.serial} ({live.status.lower()}): one card per"
                f" user; replace it (补卡) or eliminate it first"
            )
    record = platform.cards.registry.open(
        username=user.username,
        member_id=user.member_id,
        user_role=user.role,
        backend=backend or platform.cards.default_backend,
    )
    platform.audit_desk(desk, "card open", card=record.serial, for_user=user.username)
    return record.public()


def personalise(platform: Platform, serial: str, pin: str, *, member_role: str) -> CardRecord:
    """Seed, key, certificate and backup for an OPENED card; the ledger is not touched."""
    check_pin(pin)
    registry = platform.cards.registry
    record = registry.get(serial)
    if record.status != "OPENED":
        raise CardStateError(f"card {serial} is {record.status}; only an opened card can be issued")
    mnemonic = new_mnemonic()
    private_value = derive_private_value(mnemonic)
    card = platform.cards.service.card_for(record)
    if card.exists():  # an earlier attempt stopped after putting a key: start this card afresh
        card.destroy()
    card.put_key(private_value, pin)
    ca = platform.keystore.cas()[ROLE_MSP[member_role]]
    certificate = ca.issue(
        public_key_of(private_value),
        common_name=f"{record.username}@{record.member_id}",
        attributes={"member": record.member_id, "role": record.user_role, "user": record.username},
    )
    backup = seal(
        mnemonic,
        operator_password=platform.settings.operator_password,
        pin=pin,
        keys=platform.cards.backup_keys,
        n=platform.settings.card_kdf_n,
    )
    del mnemonic, private_value  # the seed lives on only inside the backup
    return registry.activate(serial, msp_id=ca.msp_id, certificate_pem=certificate.decode(), backup=backup)


def issue_card(platform: Platform, desk: Desk, serial: str, pin: str) -> dict[str, Any]:
    """发卡: personalise the card and register its identity on the ledger (signed in the desk
    admin's card).

    If an earlier attempt personalised the card but failed before the ledger registered it,
    issuing again finishes the registration (with the same PIN, checked by the card)."""
    record = platform.cards.registry.get(serial)
    if record.status == "ACTIVE" and not _registered(platform, record):
        platform.cards.service.check_pin(record, check_pin(pin))
        issued = record
    else:
        check_pin(pin, strict=_strict(platform))
        member = _member(platform, record.member_id)
        issued = personalise(platform, serial, pin, member_role=member["role"])
    identity = platform.submit(
        desk.actor,
        "RegisterIdentity",
        {"msp_id": issued.msp_id, "certificate_pem": issued.certificate_pem},
        pin=desk.pin,
    ).result
    platform.audit_desk(desk, "card issue", card=serial, for_user=issued.username)
    return {**issued.public(), "ledger_status": identity["status"]}


def approve_card(platform: Platform, admin: Actor, serial: str, pin: str) -> dict[str, Any]:
    """An admin of the card's own member approves the identity the desk proposed, signed in the
    admin's card; until then the card signs nothing the ledger accepts. The chaincode checks
    the same (the desk cannot approve for a member)."""
    record = platform.cards.registry.get(serial)
    if admin.role != "admin" or admin.member_id != record.member_id:
        raise d.ForbiddenError("only an admin of the card's own member may approve it")
    if not record.certificate_pem:
        raise CardStateError(f"card {serial} has not been issued")
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    identity = platform.submit(admin, "ApproveIdentity", request, pin=pin).result
    return {**record.public(), "ledger_status": identity["status"]}


def ledger_status(platform: Platform, record: CardRecord) -> str | None:
    """The card's identity on the ledger: ACTIVE, PENDING_APPROVAL, REVOKED, or None."""
    if not record.certificate_pem:
        return None
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    try:
        return str(platform.evaluate("GetIdentity", request)["status"])
    except d.NotFoundError:
        return None


def _registered(platform: Platform, record: CardRecord) -> bool:
    request = {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem}
    try:
        platform.evaluate("GetIdentity", request)
    except d.NotFoundError:
        return False
    return True


def enrol(
    platform: Platform, desk: Desk, username: str, pin: str, backend: str | None = None
) -> dict[str, Any]:
    """Open and issue a card for ``username`` in one step."""
    check_pin(pin, strict=_strict(platform))
    return issue_card(platform, desk, open_card(platform, desk, username, backend)["serial"], pin)


def _refuse_desks_own(desk: Desk, username: str) -> None:
    """The desk acts on other users' cards, never on the acting operator admin's own: another
    operator admin does that."""
    if username == desk.actor.username:
        raise d.ForbiddenError("the desk does not act on its own card: another operator admin does")


def _identity_request(record: CardRecord, **extra: str) -> dict[str, Any]:
    return {"msp_id": record.msp_id, "certificate_pem": record.certificate_pem, **extra}


def report_lost(platform: Platform, desk: Desk, serial: str) -> dict[str, Any]:
    """The card is suspended at once, in the registry (the gateway signs nothing with it) and on
    the ledger (SuspendIdentity: its key signs nothing the chaincode accepts, sent however it
    is); it signs again only in its replacement card. A retry finishes what a failure left."""
    registry = platform.cards.registry
    record = registry.get(serial)
    _refuse_desks_own(desk, record.username)
    if record.status == "ACTIVE":
        record = registry.suspend(serial)
    elif record.status != "SUSPENDED":
        raise CardStateError(
            f"card {serial} is {record.status.lower()}; only an active card is reported lost"
        )
    if ledger_status(platform, record) in ("ACTIVE", "PENDING_APPROVAL"):
        request = _identity_request(record, reason="card reported lost")
        platform.submit(desk.actor, "SuspendIdentity", request, pin=desk.pin)
    platform.audit_desk(desk, "card report-lost", card=serial)
    return {"status": "suspended", "serial": serial}


def resume_identity(platform: Platform, desk: Desk, record: CardRecord) -> None:
    """The key of a card reported lost is back in its replacement card: the desk resumes its
    identity on the ledger (ResumeIdentity)."""
    if ledger_status(platform, record) == "SUSPENDED":
        platform.submit(desk.actor, "ResumeIdentity", _identity_request(record), pin=desk.pin)


def approve_recovery(platform: Platform, admin: Actor, serial: str, pin: str) -> dict[str, Any]:
    """An admin of another member approves the recovery of a member left without an active admin:
    the admin card the desk proposed for it becomes ACTIVE once admins of a majority of the
    other members have approved (the chaincode counts and checks)."""
    record = platform.cards.registry.get(serial)
    if admin.role != "admin" or admin.member_id in (record.member_id, "operator"):
        raise d.ForbiddenError("a member's recovery is approved by admins of the other members")
    if not record.certificate_pem:
        raise CardStateError(f"card {serial} has not been issued")
    identity = platform.submit(admin, "ApproveRecovery", _identity_request(record), pin=pin).result
    return {**record.public(), "msp_id": record.msp_id, "ledger_status": identity["status"],
            "recovery": recovery_of(identity)}  # fmt: skip


def recovery_of(identity: dict[str, Any]) -> dict[str, Any] | None:
    """How far a recovery has come: approvals, approvals needed, approving members."""
    recovery = identity.get("recovery")
    if not recovery:
        return None
    return {
        "approvals": len(recovery["approvals"]),
        "needed": recovery["needed"],
        "approved_by": [approval["member_id"] for approval in recovery["approvals"]],
    }


def replace_card(
    platform: Platform, desk: Desk, serial: str, *, pin: str, operator_password: str
) -> dict[str, Any]:
    """补卡: a new card with the same key, recovered from the backup with both passwords."""
    registry = platform.cards.registry
    check_pin(pin)
    old = registry.get(serial)
    _refuse_desks_own(desk, old.username)
    if old.status not in ("SUSPENDED", "ACTIVE") or old.backup is None:
        raise CardStateError(f"card {serial} is {old.status} and cannot be replaced")
    mnemonic = open_backup(
        old.backup, operator_password=operator_password, pin=pin, keys=platform.cards.backup_keys
    )
    private_value = derive_private_value(mnemonic)
    for card in registry.cards_of(old.username):  # an earlier replacement stopped half-way
        if card.replaces == serial and card.status == "OPENED":
            platform.cards.service.card_for(card).destroy()
            registry.eliminate(card.serial)
        elif card.replaces == serial and card.status == "ACTIVE":
            resume_identity(platform, desk, card)
            platform.cards.service.card_for(old).destroy()
            registry.mark_replaced(serial)
            platform.audit_desk(desk, "card replace", card=serial, new_card=card.serial)
            return card.public()
    new = registry.open(
        username=old.username,
        member_id=old.member_id,
        user_role=old.user_role,
        backend=platform.cards.default_backend,
        replaces=serial,
    )
    platform.cards.service.card_for(new).put_key(private_value, pin)
    backup = seal(
        mnemonic,
        operator_password=operator_password,
        pin=pin,
        n=platform.settings.card_kdf_n,
        keys=platform.cards.backup_keys,
    )
    del mnemonic, private_value
    issued = registry.activate(
        new.serial, msp_id=old.msp_id or "", certificate_pem=old.certificate_pem or "", backup=backup
    )
    resume_identity(platform, desk, issued)
    platform.cards.service.card_for(old).destroy()
    registry.mark_replaced(serial)
    platform.audit_desk(desk, "card replace", card=serial, new_card=issued.serial)
    return issued.public()


def eliminate_card(platform: Platform, desk: Desk, serial: str) -> dict[str, Any]:
    """销卡: revoke the identity on the ledger and destroy the key. A card whose key lives on in
    a replacement card keeps the identity; a retry after a failure finishes the job."""
    registry = platform.cards.registry
    record = registry.get(serial)
    _refuse_desks_own(desk, record.username)
    if record.status in ("ELIMINATED", "REPLACED"):
        raise CardStateError(f"card {serial} is {record.status.lower()} and cannot be eliminated")
    others = [
        card
        for card in registry.cards_of(record.username)
        if card.serial != serial
        and card.certificate_pem == record.certificate_pem
        and card.status in ("ACTIVE", "SUSPENDED")
    ]
    if record.certificate_pem and not others:
        request = {
            "msp_id": record.msp_id,
            "certificate_pem": record.certificate_pem,
            "reason": "card eliminated",
        }
        try:
            platform.submit(desk.actor, "RevokeIdentity", request, pin=desk.pin)
        except d.StateConflictError:
            if platform.evaluate("GetIdentity", request)["status"] != "REVOKED":
                raise
    platform.cards.service.card_for(record).destroy()
    registry.eliminate(serial)
    platform.audit_desk(desk, "card eliminate", card=serial)
    return {"status": "eliminated", "serial": serial}


def unlock_card(platform: Platform, desk: Desk, serial: str) -> dict[str, Any]:
    """At the desk only: forget the wrong PINs of a locked card."""
    _refuse_desks_own(desk, platform.cards.registry.get(serial).username)
    unlocked = platform.cards.registry.unlock(serial).public()
    platform.audit_desk(desk, "card unlock", card=serial)
    return unlocked


def cards_of(platform: Platform, username: str) -> list[dict[str, Any]]:
    """A user's cards, each with its identity's status on the ledger (``ledger_status``) and,
    for an admin card waiting for a member's recovery, how far it has come (``recovery``)."""
    found = []
    for record in platform.cards.registry.cards_of(username):
        identity = _identity(platform, record)
        shown = {**record.public(), "ledger_status": identity["status"] if identity else None}
        recovery = recovery_of(identity) if identity else None
        if recovery is not None:
            shown["recovery"] = recovery
        found.append(shown)
    return found


def _identity(platform: Platform, record: CardRecord) -> dict[str, Any] | None:
    if not record.certificate_pem:
        return None
    try:
        return platform.evaluate("GetIdentity", _identity_request(record))  # type: ignore[no-any-return]
    except d.NotFoundError:
        return None
