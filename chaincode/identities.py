"""Members and identities: the ledger's bootstrap, the term cap, members, the identities of
their users' cards (proposed by the desk, approved by the member's own admin, revoked), and
Ping. Composed into GoldTicketContract (chaincode/contract.py)."""

from __future__ import annotations

from typing import Any

from goldticket import domain as d

from .identity import Caller, caller_from_certificate
from .transactions import READER_ROLE, ROLES, Tx, transaction
from .visibility import require_own


def _term_months(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise d.InvalidInputError("max_term_months must be a whole number of months from 1 to 12")
    return value


class IdentityTransactions:
    @transaction
    async def Bootstrap(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator's first admin registers the operator member and itself, once."""
        if await tx.get("config", "bootstrap") is not None:
            raise d.StateConflictError("the ledger is already bootstrapped")
        caller = tx.signer()
        if caller.role != "admin" or caller.member_id != req.get("id"):
            raise d.ForbiddenError("the bootstrap must be signed by an admin of the operator member")
        member = {
            "id": d.require_text(req.get("id"), "id", 64),
            "name": d.require_text(req.get("name"), "name"),
            "name_en": str(req.get("name_en") or ""),
            "role": "operator",
            "msp_id": caller.msp_id,
        }
        # The environment (prod, dev, test) belongs to the ledger from its first block: a
        # client reads it from the operator member and cannot talk a prod ledger into a clock.
        environment = req.get("environment", "prod")
        if environment not in ("prod", "dev", "test"):
            raise d.InvalidInputError("environment must be prod, dev or test")
        member["environment"] = environment
        await tx.put("member", (member["id"],), member)
        await self._put_identity(tx, caller)
        if req.get("reader_certificate_pem") is not None:
            # the portal's read identity: queries only (Tx.caller refuses it any write)
            reader = self._subject(
                {"msp_id": caller.msp_id, "certificate_pem": req["reader_certificate_pem"]}
            )
            if (reader.member_id, reader.role) != (member["id"], READER_ROLE):
                raise d.InvalidInputError("the read identity must be the operator's, with role reader")
            await self._put_identity(tx, reader)
        months = _term_months(req.get("max_term_months", d.DEFAULT_MAX_TERM_MONTHS))
        config = {"tx_id": tx.tx_id, "max_term_months": months, "environment": environment}
        if "documents" in req:  # #21 (a bootstrap before the rule stated none: optional)
            config["documents"] = d.check_document_rule(req["documents"], environment)
        await tx.put("config", ("bootstrap",), config)
        return member

    @transaction
    async def RequireDocuments(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator turns the documents rule on for a ledger bootstrapped without it (#21):
        from the next block, every issue, transfer offer and financing application records its
        signed document. Once on, no transaction turns it off."""
        await tx.caller("operator", admin=True)
        config = d.require_document_rule_change(await tx.require("config", "bootstrap"))
        await tx.put("config", ("bootstrap",), config)
        return self._rules(config)

    @transaction
    async def GetLedgerRules(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The rules every member's moves are held to: the longest payment term, whether moves
        need their signed documents, the ledger's environment."""
        await tx.viewer()
        return self._rules(await tx.require("config", "bootstrap"))

    @staticmethod
    def _rules(config: dict[str, Any]) -> dict[str, Any]:
        return {
            "max_term_months": config["max_term_months"],
            "documents": d.document_rule(config),
            "environment": config.get("environment", "prod"),
        }

    @transaction
    async def SetTermCap(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator sets the longest payment term new tickets may have (1 to 12 months)."""
        await tx.caller("operator", admin=True)
        config = await tx.require("config", "bootstrap")
        config["max_term_months"] = _term_months(req.get("max_term_months"))
        await tx.put("config", ("bootstrap",), config)
        return config

    @transaction
    async def UpdateMember(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator desk corrects a member's details: its names, and a bank's day basis and
        service fee. Its id, role and MSP never change (issue #20 point 13)."""
        await tx.caller("operator", admin=True)
        member_id = d.require_text(req.get("id"), "id", 64)
        member = await tx.require("member", member_id)
        if member["role"] not in ROLES[1:]:
            raise d.ForbiddenError("the operator's own member is not edited here")
        changed = dict(member)
        if "name" in req:
            changed["name"] = d.require_text(req.get("name"), "name")
        if "name_en" in req:
            changed["name_en"] = str(req.get("name_en") or "")[:128]
        if "day_basis" in req:
            if req["day_basis"] not in (360, 365):
                raise d.InvalidInputError("day_basis must be 360 or 365")
            changed["day_basis"] = req["day_basis"]
        if "fee_bp" in req:
            fee_bp = req["fee_bp"]
            if isinstance(fee_bp, bool) or not isinstance(fee_bp, int) or not 0 <= fee_bp <= 10_000:
                raise d.InvalidInputError("fee_bp must be an integer between 0 and 10000")
            changed["fee_bp"] = fee_bp
        await tx.put("member", (member_id,), changed)
        return changed

    async def _put_identity(
        self, tx: Tx, caller: Caller, status: str = "ACTIVE", **extra: str
    ) -> dict[str, Any]:
        identity = {
            "key_id": caller.key_id,
            "member_id": caller.member_id,
            "user": caller.user,
            "role": caller.role,
            "msp_id": caller.msp_id,
            "status": status,
            **extra,
        }
        await tx.put("identity", (caller.key_id,), identity)
        await tx.put("member_identity", (caller.member_id, caller.key_id), {})
        return identity

    async def _has_active_admin(self, tx: Tx, member_id: str) -> bool:
        for attributes, _ in await tx.scan("member_identity", member_id):
            identity = await tx.get("identity", attributes[-1])
            if identity is not None and identity["status"] == "ACTIVE" and identity["role"] == "admin":
                return True
        return False

    @transaction
    async def RegisterMember(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        await tx.caller("operator", admin=True)
        member_id = d.require_text(req.get("id"), "id", 64)
        if await tx.get("member", member_id) is not None:
            raise d.StateConflictError(f"member {member_id} is already registered")
        role = req.get("role")
        if role not in ROLES[1:]:
            raise d.InvalidInputError("role must be core, supplier or bank")
        day_basis = req.get("day_basis", 360)
        if day_basis not in (360, 365):
            raise d.InvalidInputError("day_basis must be 360 or 365")
        fee_bp = req.get("fee_bp", 0)
        if isinstance(fee_bp, bool) or not isinstance(fee_bp, int) or not 0 <= fee_bp <= 10_000:
            raise d.InvalidInputError("fee_bp must be an integer between 0 and 10000")
        member = {
            "id": member_id,
            "name": d.require_text(req.get("name"), "name"),
            "name_en": str(req.get("name_en") or ""),
            "role": role,
            "msp_id": d.require_text(req.get("msp_id"), "msp_id", 64),
            "day_basis": day_basis,
            "fee_bp": fee_bp,
        }
        if req.get("kyc_sha256") is not None:  # #21: the SHA-256 of its KYC record (kept off the ledger)
            member["kyc_sha256"] = d.require_sha256(req.get("kyc_sha256"), "kyc_sha256")
        await tx.put("member", (member_id,), member)
        return member

    @transaction
    async def RegisterIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The card desk proposes a member's certificate (its attributes name the member). Until
        the member is onboarded it is registered ACTIVE at once; the member is onboarded for
        good when its first admin is registered ACTIVE (``onboarded_tx`` on the member). After
        that every identity waits, PENDING_APPROVAL, until an admin of that member approves it
        (or, for an admin of a member left without an active admin, a majority of the other
        members: ApproveRecovery), whatever happened to its admins: no one, the operator
        included, makes a user of another member."""
        caller, _ = await tx.caller("operator", admin=True)
        subject = self._subject(req)
        member = await tx.member(subject.member_id)
        if member["msp_id"] != subject.msp_id:
            raise d.RuleViolationError(f"member {member['id']} takes identities from {member['msp_id']}")
        existing = await tx.get("identity", subject.key_id)
        if existing is not None and existing["status"] == "REVOKED":
            raise d.StateConflictError("this key was revoked and cannot be registered again")
        if existing is not None:
            return existing  # registered or waiting already: the desk retried
        onboarded = bool(member.get("onboarded_tx")) or await self._has_active_admin(tx, member["id"])
        status = "PENDING_APPROVAL" if onboarded else "ACTIVE"
        identity = await self._put_identity(tx, subject, status, proposed_by=caller.user)
        if status == "ACTIVE" and subject.role == "admin":
            member["onboarded_tx"] = tx.tx_id  # onboarding happens once
            await tx.put("member", (member["id"],), member)
        return identity

    @transaction
    async def ExpectIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The card desk opens a card for a member's user: the ledger expects one identity of
        that member, user and role, which only the new card itself can claim (ClaimIdentity)
        once its user has chosen the PIN. The desk never holds the key or the PIN."""
        caller, _ = await tx.caller("operator", admin=True)
        member = await tx.member(d.require_text(req.get("member_id"), "member_id", 64))
        user = d.require_text(req.get("user"), "user", 64)
        role = req.get("role")
        if role not in ("admin", "clerk"):
            raise d.InvalidInputError("role must be admin or clerk")
        expected = {
            "member_id": member["id"],
            "user": user,
            "role": role,
            "card": d.require_text(req.get("card"), "card", 64),
            "proposed_by": caller.user,
            "tx_id": tx.tx_id,
        }
        await tx.put("expected_identity", (member["id"], user), expected)
        return expected

    @transaction
    async def ClaimIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A new card registers its own identity, signed inside the card with the PIN its user
        just chose, as the desk expected it (ExpectIdentity: same member, user, role and card).
        Like RegisterIdentity it is ACTIVE at once only while the member is not yet onboarded
        (no admin was ever registered ACTIVE), and waits for a member admin's approval
        afterwards, whatever happened to its admins since."""
        subject = tx.signer()
        if await tx.get("identity", subject.key_id) is not None:
            raise d.StateConflictError("this key is registered already")
        expected = await tx.get("expected_identity", subject.member_id, subject.user)
        if expected is None:
            raise d.ForbiddenError("the operator desk opened no card for this user")
        card = d.require_text(req.get("card"), "card", 64)
        if (expected["role"], expected["card"]) != (subject.role, card):
            raise d.ForbiddenError("this card or role is not the one the operator desk opened")
        member = await tx.member(subject.member_id)
        if member["msp_id"] != subject.msp_id:
            raise d.RuleViolationError(f"member {member['id']} takes identities from {member['msp_id']}")
        onboarded = bool(member.get("onboarded_tx")) or await self._has_active_admin(tx, member["id"])
        status = "PENDING_APPROVAL" if onboarded else "ACTIVE"
        await tx.delete("expected_identity", subject.member_id, subject.user)
        identity = await self._put_identity(tx, subject, status, proposed_by=expected["proposed_by"])
        if status == "ACTIVE" and subject.role == "admin":
            member["onboarded_tx"] = tx.tx_id  # onboarding happens once, however the admin came
            await tx.put("member", (member["id"],), member)
        return identity

    @transaction
    async def ApproveIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """An admin of the identity's own member approves a proposed identity."""
        caller, _ = await tx.caller(admin=True)
        key_id = self._subject(req).key_id if req.get("certificate_pem") else None
        identity = await tx.require("identity", key_id or d.require_text(req.get("key_id"), "key_id", 64))
        if identity["member_id"] != caller.member_id:
            raise d.ForbiddenError("only an admin of the identity's own member may approve it")
        if identity["status"] != "PENDING_APPROVAL":
            raise d.StateConflictError(f"the identity is {identity['status']}, not waiting for approval")
        identity["status"] = "ACTIVE"
        identity["approved_by"] = caller.user
        await tx.put("identity", (identity["key_id"],), identity)
        return identity

    @transaction
    async def ListIdentities(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A member's identities with their status (revocations included), for its admins."""
        member_id = d.require_text(req.get("member_id"), "member_id", 64)
        require_own((await tx.viewer())[1], member_id)
        items = []
        for attributes, _ in await tx.scan("member_identity", member_id):
            identity = await tx.get("identity", attributes[-1])
            if identity is not None:
                items.append(identity)
        return {"items": items}

    @staticmethod
    def _subject(req: dict[str, Any]) -> Caller:
        pem = req.get("certificate_pem")
        if not isinstance(pem, str) or not 0 < len(pem) <= 8192:
            raise d.InvalidInputError("certificate_pem must be a PEM certificate")
        return caller_from_certificate(d.require_text(req.get("msp_id"), "msp_id", 64), pem.encode())

    @transaction
    async def RevokeIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator stops an identity at once (a lost card); its member sees it listed."""
        caller, _ = await tx.caller("operator", admin=True)
        if req.get("certificate_pem"):
            key_id = self._subject(req).key_id
        else:
            key_id = d.require_text(req.get("key_id"), "key_id", 64)
        identity = await tx.require("identity", key_id)
        if identity["status"] == "REVOKED":
            raise d.StateConflictError("the identity is already revoked")
        identity["status"] = "REVOKED"
        identity["reason"] = str(req.get("reason") or "")
        identity["revoked_by"] = caller.user
        await tx.put("identity", (identity["key_id"],), identity)
        return identity

    async def _identity_of(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The identity a request names by ``certificate_pem`` (with ``msp_id``) or ``key_id``."""
        if req.get("certificate_pem"):
            return await tx.require("identity", self._subject(req).key_id)
        return await tx.require("identity", d.require_text(req.get("key_id"), "key_id", 64))

    async def _keeper(self, tx: Tx, identity: dict[str, Any]) -> Caller:
        """An operator admin (the card desk) or an active admin of the identity's own member."""
        caller, member = await tx.caller(admin=True)
        if member["role"] != "operator" and caller.member_id != identity["member_id"]:
            raise d.ForbiddenError(
                "only the operator desk or an admin of the identity's own member may do this"
            )
        return caller

    @transaction
    async def SuspendIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A card reported lost: its identity signs nothing the ledger accepts until it is
        resumed (the same key back in a replacement card) or revoked. By the operator desk or
        an admin of the identity's own member."""
        identity = await self._identity_of(tx, req)
        caller = await self._keeper(tx, identity)
        if identity["status"] not in ("ACTIVE", "PENDING_APPROVAL"):
            raise d.StateConflictError(f"the identity is {identity['status']} and cannot be suspended")
        identity["suspended_from"] = identity["status"]
        identity["status"] = "SUSPENDED"
        identity["suspended_by"] = caller.user
        identity["suspended_tx"] = tx.tx_id
        identity["reason"] = str(req.get("reason") or "")[:256]
        await tx.put("identity", (identity["key_id"],), identity)
        return identity

    @transaction
    async def ResumeIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The same key is back in a replacement card: the identity returns to the status it had
        when suspended (a waiting identity still waits). By the operator desk (finishing the
        replacement) or an admin of the identity's own member."""
        identity = await self._identity_of(tx, req)
        caller = await self._keeper(tx, identity)
        if identity["status"] != "SUSPENDED":
            raise d.StateConflictError(f"the identity is {identity['status']}, not suspended")
        identity["status"] = identity.pop("suspended_from", "ACTIVE")
        identity["resumed_by"] = caller.user
        identity["resumed_tx"] = tx.tx_id
        await tx.put("identity", (identity["key_id"],), identity)
        return identity

    @transaction
    async def ApproveRecovery(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Recovering an onboarded member left without an active admin: an admin of another
        non-operator member approves the admin identity the desk proposed. It becomes ACTIVE once
        admins of more than half of the other non-operator members (counted when the first
        approval is made: the electorate) have approved, each member once; who approved is kept
        on the identity. The operator alone cannot complete it."""
        caller, _ = await tx.caller("core", "supplier", "bank", admin=True)
        identity = await self._identity_of(tx, req)
        # (an admin of the member itself is active, so the member is not recovered: see below)
        if identity["role"] != "admin":
            raise d.RuleViolationError(
                "only a proposed admin identity is recovered; the recovered admin approves the rest"
            )
        if identity["status"] != "PENDING_APPROVAL":
            raise d.StateConflictError(f"the identity is {identity['status']}, not waiting for approval")
        member = await tx.member(identity["member_id"])
        if not member.get("onboarded_tx"):
            raise d.StateConflictError(f"member {member['id']} was never onboarded: nothing to recover")
        if await self._has_active_admin(tx, member["id"]):
            raise d.StateConflictError(
                f"member {member['id']} has an active admin: that admin approves the identity"
            )
        recovery = identity.get("recovery")
        if recovery is None:
            electorate = sorted(
                other["id"]
                for _, other in await tx.scan("member")
                if other["role"] != "operator" and other["id"] != member["id"]
            )
            recovery = {"electorate": electorate, "needed": len(electorate) // 2 + 1, "approvals": []}
        if caller.member_id not in recovery["electorate"]:
            raise d.ForbiddenError("the member joined after this recovery began and does not vote in it")
        if any(approval["member_id"] == caller.member_id for approval in recovery["approvals"]):
            raise d.StateConflictError(f"member {caller.member_id} already approved this recovery")
        recovery["approvals"].append({"member_id": caller.member_id, "user": caller.user, "tx_id": tx.tx_id})
        identity["recovery"] = recovery
        if 2 * len(recovery["approvals"]) > len(recovery["electorate"]):
            identity["status"] = "ACTIVE"
            identity["approved_by"] = "recovery"
            identity["recovered_tx"] = tx.tx_id
        await tx.put("identity", (identity["key_id"],), identity)
        return identity

    @transaction
    async def GetMember(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A member's public record (name, role, MSP), for any registered identity."""
        await tx.viewer()
        return await tx.member(req.get("id"))  # type: ignore[arg-type]

    @transaction
    async def ListMembers(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        await tx.viewer()
        return {"items": [value for _, value in await tx.scan("member")]}

    @transaction
    async def GetIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """By ``key_id``, or by ``msp_id`` and ``certificate_pem``: the operator, or the
        identity's own member."""
        _, viewer = await tx.viewer()
        if req.get("certificate_pem"):
            identity = await tx.require("identity", self._subject(req).key_id)
        else:
            identity = await tx.require("identity", d.require_text(req.get("key_id"), "key_id", 64))
        require_own(viewer, identity["member_id"])
        return identity

    @transaction
    async def Ping(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Liveness: the transaction id and the ledger's date. With ``key`` it also writes that one
        key (``ping/<key>``), the smallest write there is: the bare-Fabric ceiling a benchmark
        compares GoldTicket's own transactions with; only the operator's registered users may
        write it. Without ``key`` it reads and writes nothing: any channel identity may call it
        (a Fabric network's probe does, before any member exists)."""
        result = {"tx_id": tx.tx_id, "today": tx.today().isoformat()}
        if "key" in req:
            await tx.caller("operator")  # the one write: the operator's registered users only
            await tx.put("ping", (d.require_text(req.get("key"), "key", 64),), {"tx_id": tx.tx_id})
        return result
