"""The operator's card desk: open (开卡), issue (发卡), report lost, replace (补卡), eliminate
(销卡) and unlock a member's BSIM card; and what only the card's own user does with it: choose
and change its PIN, finish a replacement.

The desk opens a card for a user (status OPENED, "awaiting_pin") and the ledger expects that
user's identity (ExpectIdentity). The user, logged in, chooses the PIN (:func:`set_pin`): a
BIP-39 seed is generated, the P-256 key derived by SLIP-0010 goes into the card as a
never-extractable key under that PIN, the member's org CA certifies it with member and role
attributes, the card registers its own identity (ClaimIdentity, signed in the card with the new
PIN) and the seed is kept only as a backup encrypted twice (the user's PIN inside, the
operator's backup key outside). A real BSIM derives inside the card; see docs/cards.md.

Replacing: the desk starts it with the operator password (checked against the old card's
backup) and a new card waits ("awaiting_recovery"); the user finishes it with their PIN
(:func:`recover_card`), which opens the backup with the operator password the serving process
holds (GOLDTICKET_OPERATOR_PASSWORD, the same one that seals every backup), so the certificate
and the ledger identity stay, and the old card never signs again. The desk never types a PIN.
"""

from __future__ import annotations

from typing import Any

from goldticket import domain as d
from goldticket.signing.backup import migrate, open_backup, seal
from goldticket.signing.errors import BackupError, CardStateError, WrongPinError
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


def personalise(platform: Platform, serial: str, pin: str, *, msp_id: str) -> CardRecord:
    """Seed, key, certificate and backup for an OPENED card, certified by the CA of ``msp_id``
    (the card's member's organisation); the ledger is not touched."""
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
    ca = platform.member_ca(msp_id)
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


def issue_card(platform: Platform, desk: Desk, username: str, backend: str | None = None) -> dict[str, Any]:
    """开卡 + 发卡 at the desk: open a card for ``username`` and have the ledger expect its
    identity (signed in the desk admin's card). The card holds no key and signs nothing until
    its user chooses the PIN (:func:`set_pin`)."""
    opened = open_card(platform, desk, username, backend)
    request = {
        "member_id": opened["member_id"],
        "user": opened["username"],
        "role": platform.actor(username).role,
        "card": opened["serial"],
    }
    platform.submit(desk.actor, "ExpectIdentity", request, pin=desk.pin)
    platform.audit_desk(desk, "card issue", card=opened["serial"], for_user=username)
    return opened


def _own_card(actor: Actor, serial: str, record: CardRecord) -> CardRecord:
    if record.username != actor.username:
        raise d.ForbiddenError("only the card's own user may do this")
    return record


def set_pin(
    platform: Platform, actor: Actor, serial: str, new_pin: str, old_pin: str | None = None
) -> dict[str, Any]:
    """The card's own user chooses its PIN (the first time: key made, certified, identity
    claimed on the ledger, ACTIVE or PENDING_APPROVAL as before) or changes it (``old_pin``
    proved on the card, counted like any PIN try). Raises ForbiddenError, InvalidInputError,
    WrongPinError, CardStateError."""
    registry = platform.cards.registry
    record = _own_card(actor, serial, registry.get(serial))
    check_pin(new_pin, strict=_strict(platform))
    if record.status == "OPENED" and record.replaces:
        raise CardStateError(f"card {serial} replaces another: finish the replacement with your PIN")
    if record.status == "OPENED":
        if old_pin is not None:
            raise d.InvalidInputError("this card has no PIN yet: give new_pin only")
        member = _member(platform, record.member_id)
        record = personalise(platform, serial, new_pin, msp_id=member["msp_id"])
        return _claim(platform, actor, record, new_pin)
    if record.status == "ACTIVE" and old_pin is None and not _registered(platform, record):
        platform.cards.service.check_pin(record, new_pin)  # an earlier first time stopped half-way
        return _claim(platform, actor, record, new_pin)
    if old_pin is None:
        raise d.InvalidInputError("to change the PIN give old_pin and new_pin")
    return change_pin(platform, record, check_pin(old_pin), new_pin)


def _claim(platform: Platform, actor: Actor, record: CardRecord, pin: str) -> dict[str, Any]:
    identity = platform.submit(actor, "ClaimIdentity", {"card": record.serial}, pin=pin).result
    platform.cards.service.record(
        {"card": record.serial, "user": actor.username, "event": "card PIN set", "result": "ok"}
    )
    return {**record.public(), "ledger_status": identity["status"]}


def change_pin(platform: Platform, record: CardRecord, old_pin: str, new_pin: str) -> dict[str, Any]:
    """The same key under a new PIN: the old PIN is proved on the card, the seed backup opened
    with it and sealed again under the new one, and the card personalised again."""
    if record.status != "ACTIVE" or record.backup is None:
        raise CardStateError(f"card {record.serial} is {record.status} and its PIN cannot be changed")
    service = platform.cards.service
    service.check_pin(record, old_pin)
    mnemonic = open_backup(
        record.backup,
        operator_password=platform.settings.operator_password,
        pin=old_pin,
        keys=platform.cards.backup_keys,
    )
    backup = seal(
        mnemonic,
        operator_password=platform.settings.operator_password,
        pin=new_pin,
        keys=platform.cards.backup_keys,
        n=platform.settings.card_kdf_n,
    )
    private_value = derive_private_value(mnemonic)
    del mnemonic
    card = service.card_for(record)
    card.destroy()
    card.put_key(private_value, new_pin)
    del private_value
    changed = platform.cards.registry.replace_backup(record.serial, backup)
    service.record(
        {"card": record.serial, "user": record.username, "event": "card PIN changed", "result": "ok"}
    )
    return {**changed.public(), "ledger_status": ledger_status(platform, changed)}


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
    """The desk opens a card for ``username`` and the user chooses its PIN: both steps in one,
    for setups and tests that play both (the demo, fixtures). The desk's step never sees the PIN."""
    opened = issue_card(platform, desk, username, backend)
    return set_pin(platform, platform.actor(username), opened["serial"], pin)


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


def replace_card(platform: Platform, desk: Desk, serial: str, *, operator_password: str) -> dict[str, Any]:
    """补卡, the desk's half: the operator password must open the old card's backup (its outer
    layer; the PIN's layer stays shut); the old card is suspended and a new card opened that
    waits for its user's PIN (:func:`recover_card`); an identity suspended when the card was
    reported lost is resumed now, while the desk is here. Raises BackupError, CardStateError."""
    registry = platform.cards.registry
    old = registry.get(serial)
    _refuse_desks_own(desk, old.username)
    if old.status not in ("SUSPENDED", "ACTIVE") or old.backup is None:
        raise CardStateError(f"card {serial} is {old.status} and cannot be replaced")
    migrate(old.backup, operator_password=operator_password, keys=platform.cards.backup_keys)
    for card in registry.cards_of(old.username):  # started already: the same new card
        if card.replaces == serial and card.status == "OPENED":
            resume_identity(platform, desk, old)
            return {**card.public(), "replaces": serial}
    if old.status == "ACTIVE":
        registry.suspend(serial)
    new = registry.open(
        username=old.username,
        member_id=old.member_id,
        user_role=old.user_role,
        backend=platform.cards.default_backend,
        replaces=serial,
    )
    resume_identity(platform, desk, old)
    platform.audit_desk(desk, "card replace", card=serial, new_card=new.serial)
    return {**new.public(), "replaces": serial}


def recover_card(platform: Platform, actor: Actor, serial: str, pin: str) -> dict[str, Any]:
    """补卡, the user's half: the card's own user opens the old card's seed backup with their PIN
    (and the operator password the serving process holds); the same key goes into the new card
    under that PIN, with the same certificate and ledger identity, and the old card is destroyed.
    Wrong PINs count on the new card (5 lock it). Raises ForbiddenError, WrongPinError,
    CardLockedError, CardStateError."""
    registry = platform.cards.registry
    new = _own_card(actor, serial, registry.get(serial))
    check_pin(pin)
    if new.status != "OPENED" or not new.replaces:
        raise CardStateError(f"card {serial} is not waiting for a replacement's PIN")
    old = registry.get(new.replaces)
    if old.backup is None or old.status not in ("SUSPENDED", "ACTIVE"):
        raise CardStateError(f"card {old.serial} is {old.status} and cannot be recovered")
    registry.reserve_try(serial)
    try:
        mnemonic = open_backup(
            old.backup,
            operator_password=platform.settings.operator_password,
            pin=pin,
            keys=platform.cards.backup_keys,
        )
    except BackupError:
        left = registry.tries_left(serial)
        raise WrongPinError(f"wrong PIN for card {serial}; {left} tries left", left) from None
    registry.right_pin(serial)
    private_value = derive_private_value(mnemonic)
    card = platform.cards.service.card_for(new)
    if card.exists():
        card.destroy()
    card.put_key(private_value, pin)
    backup = seal(
        mnemonic,
        operator_password=platform.settings.operator_password,
        pin=pin,
        n=platform.settings.card_kdf_n,
        keys=platform.cards.backup_keys,
    )
    del mnemonic, private_value
    issued = registry.activate(
        new.serial, msp_id=old.msp_id or "", certificate_pem=old.certificate_pem or "", backup=backup
    )
    platform.cards.service.card_for(old).destroy()
    registry.mark_replaced(old.serial)
    platform.cards.service.record(
        {"card": serial, "user": actor.username, "replaces": old.serial, "result": "ok"}
    )
    return {**issued.public(), "ledger_status": ledger_status(platform, issued)}


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


def awaiting_approval(platform: Platform, admin: Actor) -> dict[str, list[dict[str, Any]]]:
    """What a member admin may approve now: ``members``, its own member's cards whose identity
    waits for an admin's approval (registered after onboarding), and ``recoveries``, the admin
    cards proposed for another member left without an admin that this admin's member has not
    approved yet. Each card as :func:`cards_of` shows it, with its user and member. Raises
    ForbiddenError for anyone but a member admin (the operator's admins approve nothing here)."""
    if admin.role != "admin" or admin.member_id == "operator":
        raise d.ForbiddenError("only a member's admin approves identities")
    mine: list[dict[str, Any]] = []
    recoveries: list[dict[str, Any]] = []
    found = []
    for record in platform.cards.registry.all_cards():
        if record.status == "ACTIVE" and record.member_id != "operator":
            identity = _identity(platform, record)
            if identity is not None:
                found.append((record, identity))
    with_admin = {
        record.member_id
        for record, identity in found
        if identity["status"] == "ACTIVE" and identity.get("role") == "admin"
    }
    for record, identity in found:
        if identity["status"] != "PENDING_APPROVAL":
            continue
        shown = {
            **record.public(),
            "member_id": record.member_id,
            "ledger_status": identity["status"],
            "recovery": recovery_of(identity) or {"approvals": 0, "needed": None, "approved_by": []},
        }
        # a member left without an active admin is recovered by the others' admins
        recovering = identity.get("recovery") or (
            identity.get("role") == "admin" and record.member_id not in with_admin
        )
        if not recovering:
            shown["recovery"] = None
            if record.member_id == admin.member_id:
                mine.append(shown)
        elif record.member_id != admin.member_id and admin.member_id not in shown["recovery"]["approved_by"]:
            recoveries.append(shown)
    return {"members": mine, "recoveries": recoveries}
