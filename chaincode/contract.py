"""GoldTicketContract: every gold ticket transaction, authorised by who signed it.

Each transaction takes one JSON object and returns JSON. Rules come from goldticket.domain;
this module loads state, checks the signer (MSP ID, certificate attributes, and that the
identity is registered and not revoked) and writes deterministic JSON. Errors leave as
``"<code>: <sentence>"`` so clients rebuild the same typed error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fabric_chaincode_python.fabric_contract_api import Contract, TransactionContext

from goldticket import domain as d

from .identity import Caller, caller_from_certificate
from .state import State, decode_request, derive_id, encode

ROLES = ("operator", "core", "supplier", "bank")
QUERIES = (
    "GetMember",
    "ListMembers",
    "GetIdentity",
    "ListIdentities",
    "ListCreditLines",
    "GetTicket",
    "GetHistory",
    "GetLineage",
    "ListTickets",
    "GetOffer",
    "GetApplication",
    "GetCertificate",
    "GetStatement",
    "ListStatements",
    "Ping",
)


def transaction(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[str]]:
    """Parse the JSON request, run, encode the result; domain errors keep their code."""

    async def run(self: GoldTicketContract, ctx: TransactionContext, request: str) -> str:
        try:
            result = await fn(self, Tx(ctx), decode_request(request))
        except d.DomainError as error:
            raise Exception(error.wire()) from None
        encoded = encode(result)
        if fn.__name__ not in QUERIES:
            # One event per write, named by the transaction, carrying its result: listeners on
            # the channel learn what changed without decoding write sets.
            ctx.get_stub().set_event(fn.__name__, encoded)
        return encoded.decode("utf-8")

    # Not functools.wraps: the library reads the signature, which must stay (ctx, request).
    run.__name__ = run.__qualname__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


class Tx(State):
    """State plus the caller of one transaction."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx.get_stub())
        self.ctx = ctx

    def signer(self) -> Caller:
        creator = self.stub.get_creator()
        return caller_from_certificate(creator["mspid"], bytes(creator["idBytes"]))

    async def caller(self, *roles: str, admin: bool = False) -> tuple[Caller, dict[str, Any]]:
        """The registered, unrevoked caller and its member; ForbiddenError otherwise."""
        caller = self.signer()
        identity = await self.get("identity", caller.key_id)
        if identity is None or identity["status"] != "ACTIVE":
            raise d.ForbiddenError("the signer's identity is not registered or has been revoked")
        registered = (identity["member_id"], identity["msp_id"], identity["role"], identity["user"])
        if registered != (caller.member_id, caller.msp_id, caller.role, caller.user):
            raise d.ForbiddenError("the signer's certificate does not match its registered identity")
        member = await self.require("member", caller.member_id)
        if member["msp_id"] != caller.msp_id:
            raise d.ForbiddenError("the signer's MSP does not issue identities for its member")
        if roles and member["role"] not in roles:
            raise d.ForbiddenError(f"only a {' or '.join(roles)} member may do this")
        if admin and caller.role != "admin":
            raise d.ForbiddenError("only an admin user may do this")
        return caller, member

    async def member(self, member_id: str, *roles: str) -> dict[str, Any]:
        member = await self.get("member", d.require_text(member_id, "member id"))
        if member is None:
            raise d.NotFoundError(f"no member {member_id}")
        if roles and member["role"] not in roles:
            raise d.RuleViolationError(f"member {member_id} is not a {' or '.join(roles)}")
        return member

    async def ticket(self, ticket_id: Any) -> d.Ticket:
        return d.Ticket.from_dict(await self.require("ticket", d.require_text(ticket_id, "ticket_id")))

    async def save(self, ticket: d.Ticket, action: str, caller: Caller, old: d.Ticket | None = None) -> None:
        doc = ticket.to_dict()
        doc["last_action"] = {
            "action": action,
            "by_org_id": caller.member_id,
            "by_user": caller.user,
            "card_serial": caller.certificate_serial,
        }
        await self.put("ticket", (ticket.id,), doc)
        if old is None:
            await self.put("piece", (ticket.root_id, ticket.id), {})
        if old is not None and old.holder_org_id != ticket.holder_org_id:
            await self.delete("holding", old.holder_org_id, old.id)
        if ticket.status in d.LIVE or ticket.status is d.TicketStatus.PENDING_ACCEPTANCE:
            await self.put("holding", (ticket.holder_org_id, ticket.id), {})
        else:
            await self.delete("holding", ticket.holder_org_id, ticket.id)

    async def save_split(
        self,
        parent: d.Ticket,
        children: tuple[d.Ticket, d.Ticket | None],
        action: str,
        caller: Caller,
        old: d.Ticket,
    ) -> None:
        """A consumed ticket and the pieces it split into (the remainder may be None)."""
        await self.save(parent, action, caller, old)
        for child in children:
            if child is not None:
                await self.save(child, action, caller)


def _term_months(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
        raise d.InvalidInputError("max_term_months must be a whole number of months from 1 to 12")
    return value


def public(ticket: d.Ticket) -> dict[str, Any]:
    data = ticket.to_dict()
    if ticket.offer_id is None:
        data.pop("offer_id")
    if ticket.application_id is None:
        data.pop("application_id")
    return data


class GoldTicketContract(Contract):
    Name = "GoldTicket"

    def get_evaluate_transactions(self) -> list[str]:
        return list(QUERIES)

    # ----------------------------------------------------------------- registry
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
        await tx.put("member", (member["id"],), member)
        await self._put_identity(tx, caller)
        months = _term_months(req.get("max_term_months", d.DEFAULT_MAX_TERM_MONTHS))
        await tx.put("config", ("bootstrap",), {"tx_id": tx.tx_id, "max_term_months": months})
        return member

    @transaction
    async def SetTermCap(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The operator sets the longest payment term new tickets may have (1 to 12 months)."""
        await tx.caller("operator", admin=True)
        config = await tx.require("config", "bootstrap")
        config["max_term_months"] = _term_months(req.get("max_term_months"))
        await tx.put("config", ("bootstrap",), config)
        return config

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
        await tx.put("member", (member_id,), member)
        return member

    @transaction
    async def RegisterIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The card desk proposes a member's certificate (its attributes name the member). While
        the member has no admin with an active identity (onboarding) it is registered ACTIVE at
        once; after that it waits, PENDING_APPROVAL, until an admin of that member approves it:
        no one, the operator included, makes a user of another member."""
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
        status = "PENDING_APPROVAL" if await self._has_active_admin(tx, member["id"]) else "ACTIVE"
        return await self._put_identity(tx, subject, status, proposed_by=caller.user)

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

    @transaction
    async def GetMember(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await tx.member(req.get("id"))  # type: ignore[arg-type]

    @transaction
    async def ListMembers(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return {"items": [value for _, value in await tx.scan("member")]}

    @transaction
    async def GetIdentity(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """By ``key_id``, or by ``msp_id`` and ``certificate_pem``."""
        if req.get("certificate_pem"):
            return await tx.require("identity", self._subject(req).key_id)
        return await tx.require("identity", d.require_text(req.get("key_id"), "key_id", 64))

    @transaction
    async def Ping(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Liveness: the transaction id and the ledger's date. With ``key`` it also writes that one
        key (``ping/<key>``), the smallest write there is: the bare-Fabric ceiling a benchmark
        compares GoldTicket's own transactions with."""
        result = {"tx_id": tx.tx_id, "today": tx.today().isoformat()}
        if "key" in req:
            await tx.put("ping", (d.require_text(req.get("key"), "key", 64),), {"tx_id": tx.tx_id})
        return result

    # ------------------------------------------------------------------- credit
    @transaction
    async def GrantCreditLine(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("bank")
        core = await tx.member(req.get("core_org_id"), "core")  # type: ignore[arg-type]
        line = d.CreditLine(derive_id("CL", tx.tx_id), caller.member_id, core["id"], req.get("limit_fen"))  # type: ignore[arg-type]
        await tx.put("credit", (core["id"], line.id), line.to_dict())
        return line.to_dict()

    @transaction
    async def ListCreditLines(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        partial = (req["core_org_id"],) if req.get("core_org_id") else ()
        return {"items": [value for _, value in await tx.scan("credit", *partial)]}

    # ------------------------------------------------------------------ tickets
    @transaction
    async def IssueTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, core = await tx.caller("core")
        payee = await tx.member(req.get("payee_org_id"), "supplier")  # type: ignore[arg-type]
        invoices_in = req.get("invoices")
        if not isinstance(invoices_in, list) or len(invoices_in) > 100:
            raise d.InvalidInputError("invoices must be a list of at most 100 invoices")
        invoices = tuple(d.Invoice.from_dict(item) for item in invoices_in)
        config = await tx.require("config", "bootstrap")
        ticket = d.issue_ticket(
            ticket_id=derive_id("TK", tx.tx_id),
            issuer_org_id=core["id"],
            payee_org_id=payee["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            issue_date=tx.today(),
            maturity_date=d.parse_date(req.get("maturity_date"), "maturity_date"),
            invoices=invoices,
            tx_id=tx.tx_id,
            max_term_months=config["max_term_months"],
        )
        # An invoice is its document: records are keyed by its SHA-256, across every issuer.
        used: dict[str, int] = {}
        for invoice in invoices:
            record = await tx.get("invoice", invoice.sha256)
            if record is not None:
                d.check_same_invoice(d.Invoice.from_dict(record["invoice"]), invoice)
                used[invoice.sha256] = record["used_fen"]
            numbered = await tx.get("invoice_number", core["id"], invoice.number)
            if numbered is not None and numbered["sha256"] != invoice.sha256:
                raise d.RuleViolationError(
                    f"invoice {invoice.number} does not match the invoice recorded under that number"
                )
            if numbered is None:
                await tx.put("invoice_number", (core["id"], invoice.number), {"sha256": invoice.sha256})
        draws = {}
        for sha256, used_fen in d.allocate_invoices(ticket.amount_fen, invoices, used).items():
            invoice = next(item for item in invoices if item.sha256 == sha256)
            draws[sha256] = used_fen - used.get(sha256, 0)
            await tx.put("invoice", (sha256,), {"invoice": invoice.to_dict(), "used_fen": used_fen})
        await tx.put("draws", (ticket.id,), draws)
        lines = [d.CreditLine.from_dict(value) for _, value in await tx.scan("credit", core["id"])]
        wanted = req.get("credit_line_id")
        if wanted:
            lines = [line for line in lines if line.id == wanted]
        line = d.choose_credit_line(lines, ticket.amount_fen).reserve(ticket.amount_fen)
        await tx.put("credit", (core["id"], line.id), line.to_dict())
        ticket = ticket.with_changes(credit_line_id=line.id)
        await tx.save(ticket, "issue", caller)
        return public(ticket)

    async def _release_credit(self, tx: Tx, ticket: d.Ticket, amount_fen: int) -> None:
        if ticket.credit_line_id is None:
            return
        line = d.CreditLine.from_dict(await tx.require("credit", ticket.issuer_org_id, ticket.credit_line_id))
        await tx.put("credit", (ticket.issuer_org_id, line.id), line.release(amount_fen).to_dict())

    async def _release_invoices(self, tx: Tx, ticket: d.Ticket) -> None:
        """Give back exactly what this ticket drew from each invoice when it was issued."""
        draws = await tx.require("draws", ticket.id)
        for sha256, drawn_fen in sorted(draws.items()):
            record = await tx.require("invoice", sha256)
            record["used_fen"] -= drawn_fen
            await tx.put("invoice", (sha256,), record)
        await tx.delete("draws", ticket.id)

    @transaction
    async def AcceptTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.accept_ticket(old, by_org_id=caller.member_id)
        await tx.save(ticket, "accept", caller, old)
        return public(ticket)

    @transaction
    async def RejectTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.reject_ticket(old, by_org_id=caller.member_id)
        await self._release_credit(tx, old, old.amount_fen)
        await self._release_invoices(tx, old)
        await tx.save(ticket, "reject", caller, old)
        return public(ticket)

    @transaction
    async def CancelTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("core")
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.cancel_ticket(old, by_org_id=caller.member_id)
        await self._release_credit(tx, old, old.amount_fen)
        await self._release_invoices(tx, old)
        await tx.save(ticket, "cancel", caller, old)
        return public(ticket)

    # ----------------------------------------------------------------- transfer
    @transaction
    async def OfferTransfer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        payee = await tx.member(req.get("to_org_id"), "supplier", "core")  # type: ignore[arg-type]
        ticket, offer = d.offer_transfer(
            old,
            by_org_id=caller.member_id,
            to_org_id=payee["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            offer_id=derive_id("OF", tx.tx_id),
            today=tx.today(),
        )
        await tx.put("offer", (offer.id,), offer.to_dict())
        await tx.save(ticket, "offer_transfer", caller, old)
        return {"offer_id": offer.id, "ticket": public(ticket)}

    async def _offer(self, tx: Tx, req: dict[str, Any]) -> tuple[d.Offer, d.Ticket]:
        offer = d.Offer.from_dict(await tx.require("offer", d.require_text(req.get("offer_id"), "offer_id")))
        return offer, await tx.ticket(offer.ticket_id)

    @transaction
    async def AcceptOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        offer, old = await self._offer(tx, req)
        parent, part, remainder, closed = d.accept_offer(
            old,
            offer,
            by_org_id=caller.member_id,
            transferred_id=derive_id("TK", tx.tx_id, 1),
            remainder_id=derive_id("TK", tx.tx_id, 2),
            tx_id=tx.tx_id,
            today=tx.today(),
        )
        await tx.put("offer", (offer.id,), closed.to_dict())
        await tx.save_split(parent, (part, remainder), "accept_transfer", caller, old)
        return {"transferred": public(part), "remainder": public(remainder) if remainder else None}

    async def _close_offer(self, tx: Tx, req: dict[str, Any], outcome: str) -> dict[str, Any]:
        caller, _ = await tx.caller()
        offer, old = await self._offer(tx, req)
        ticket, closed = d.close_offer(old, offer, by_org_id=caller.member_id, outcome=outcome)
        await tx.put("offer", (offer.id,), closed.to_dict())
        await tx.save(ticket, f"{outcome.lower()}_transfer", caller, old)
        return public(ticket)

    @transaction
    async def RejectOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await self._close_offer(tx, req, "REJECTED")

    @transaction
    async def CancelOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await self._close_offer(tx, req, "CANCELLED")

    @transaction
    async def GetOffer(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await tx.require("offer", d.require_text(req.get("offer_id"), "offer_id"))

    # ---------------------------------------------------------------- financing
    @transaction
    async def ApplyFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller()
        old = await tx.ticket(req.get("ticket_id"))
        bank = await tx.member(req.get("bank_org_id"), "bank")  # type: ignore[arg-type]
        ticket, application = d.apply_financing(
            old,
            by_org_id=caller.member_id,
            bank_org_id=bank["id"],
            amount_fen=req.get("amount_fen"),  # type: ignore[arg-type]
            application_id=derive_id("FA", tx.tx_id),
            today=tx.today(),
        )
        await tx.put("application", (application.id,), application.to_dict())
        await tx.save(ticket, "apply_financing", caller, old)
        return {"application_id": application.id, "ticket": public(ticket)}

    async def _application(self, tx: Tx, req: dict[str, Any]) -> tuple[d.FinancingApplication, d.Ticket]:
        app_id = d.require_text(req.get("application_id"), "application_id")
        application = d.FinancingApplication.from_dict(await tx.require("application", app_id))
        return application, await tx.ticket(application.ticket_id)

    @transaction
    async def ApproveFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, bank = await tx.caller("bank")
        application, old = await self._application(tx, req)
        parent, financed, remainder, approved, quote = d.approve_financing(
            old,
            application,
            by_org_id=caller.member_id,
            annual_rate_bp=req.get("annual_rate_bp"),  # type: ignore[arg-type]
            value_date=d.parse_date(req.get("value_date"), "value_date"),
            day_basis=bank.get("day_basis", 360),
            fee_bp=bank.get("fee_bp", 0),
            financed_id=derive_id("TK", tx.tx_id, 1),
            remainder_id=derive_id("TK", tx.tx_id, 2),
            tx_id=tx.tx_id,
            today=tx.today(),
        )
        await tx.put("application", (application.id,), approved.to_dict())
        await tx.save_split(parent, (financed, remainder), "approve_financing", caller, old)
        result = dict(quote.to_dict())
        result.update(financed=public(financed), remainder=public(remainder) if remainder else None)
        return result

    @transaction
    async def RejectFinancing(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("bank")
        application, old = await self._application(tx, req)
        reason = d.require_text(req.get("reason") or "declined", "reason", 500)
        ticket, closed = d.reject_financing(old, application, by_org_id=caller.member_id, reason=reason)
        await tx.put("application", (application.id,), closed.to_dict())
        await tx.save(ticket, "reject_financing", caller, old)
        return public(ticket)

    @transaction
    async def GetApplication(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return await tx.require("application", d.require_text(req.get("application_id"), "application_id"))

    # --------------------------------------------------------------- settlement
    @transaction
    async def SettleTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("core")
        root = await tx.ticket(req.get("root_id"))
        pieces = [await tx.ticket(attrs[1]) for attrs, _ in await tx.scan("piece", root.id)]
        plan = d.plan_settlement(root, pieces, by_org_id=caller.member_id, today=tx.today())
        by_id = {piece.id: piece for piece in pieces}
        for offer_id in plan.cancelled_offer_ids:
            offer = await tx.require("offer", offer_id)
            offer["status"] = "CANCELLED"
            await tx.put("offer", (offer_id,), offer)
        for app_id in plan.cancelled_application_ids:
            application = await tx.require("application", app_id)
            application.update(status="REJECTED", reason="settled at maturity")
            await tx.put("application", (app_id,), application)
        for payment in plan.paid:
            old = by_id[payment.ticket_id]
            await tx.save(d.settle_piece(old), "settle", caller, old)
        if plan.total_paid_fen:
            await self._release_credit(tx, root, plan.total_paid_fen)
        statement = {"statement_id": derive_id("ST", tx.tx_id), "settled_on": tx.today().isoformat()}
        statement.update(plan.to_dict())
        await tx.put("statement", (root.id, statement["statement_id"]), statement)
        return statement

    # ------------------------------------------------------------------ freeze
    @transaction
    async def FreezeTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("operator")
        d.require_text(req.get("reason"), "reason", 500)
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.freeze_ticket(old)
        await tx.save(ticket, "freeze", caller, old)
        return public(ticket)

    @transaction
    async def UnfreezeTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        caller, _ = await tx.caller("operator")
        old = await tx.ticket(req.get("ticket_id"))
        ticket = d.unfreeze_ticket(old)
        await tx.save(ticket, "unfreeze", caller, old)
        return public(ticket)

    # ------------------------------------------------------------- certificates
    @transaction
    async def RecordCertificate(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """Anchor a certificate PDF: its SHA-256 and, optionally, its ``certificate_id``, the
        member it was made for (``requested_by``, holder or issuer) and the hash of the ticket's
        state it states (``state_sha256``: refused if the ticket has changed since). The record
        keeps the ticket as it is now and its state hash, computed here."""
        caller, member = await tx.caller()
        ticket = await tx.ticket(req.get("ticket_id"))
        parties = (ticket.holder_org_id, ticket.issuer_org_id)
        if caller.member_id not in parties and member["role"] != "operator":
            raise d.ForbiddenError(f"only the holder or issuer of ticket {ticket.id} may certify it")
        requested_by = req.get("requested_by", caller.member_id)
        if requested_by not in parties and requested_by != caller.member_id:
            raise d.ForbiddenError(f"only the holder or issuer of ticket {ticket.id} may certify it")
        digest = d.require_text(req.get("sha256"), "sha256", 64)
        if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            raise d.InvalidInputError("sha256 must be 64 lowercase hex digits")
        d.check_certifiable(ticket)
        state = d.state_sha256(public(ticket))
        if req.get("state_sha256", state) != state:
            raise d.StateConflictError(f"ticket {ticket.id} changed after its certificate was made")
        if await tx.get("certificate", digest) is not None:
            raise d.StateConflictError("a certificate with this hash is already recorded")
        certificate_id = req.get("certificate_id")
        if certificate_id is not None:
            d.check_certificate_id(certificate_id)
            if await tx.get("certificate_ref", certificate_id) is not None:
                raise d.StateConflictError(f"certificate {certificate_id} is already recorded")
            await tx.put("certificate_ref", (certificate_id,), {"sha256": digest})
        record = {
            "sha256": digest,
            "certificate_id": certificate_id,
            "ticket_id": ticket.id,
            "holder_org_id": ticket.holder_org_id,
            "state_sha256": state,
            "ticket": public(ticket),
            "requested_by": requested_by,
            "recorded_by": caller.member_id,
            "recorded_on": tx.today().isoformat(),
            "recorded_at": tx.timestamp().isoformat(),
            "tx_id": tx.tx_id,
        }
        await tx.put("certificate", (digest,), record)
        return record

    @transaction
    async def GetCertificate(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """By ``sha256``, or by ``certificate_id``."""
        if req.get("certificate_id") is not None:
            ref = await tx.require(
                "certificate_ref", d.require_text(req.get("certificate_id"), "certificate_id", 64)
            )
            return await tx.require("certificate", ref["sha256"])
        return await tx.require("certificate", d.require_text(req.get("sha256"), "sha256", 64))

    @transaction
    async def GetStatement(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """A clearing statement, by ``root_id`` and ``statement_id``."""
        root_id = d.require_text(req.get("root_id"), "root_id")
        return await tx.require("statement", root_id, d.require_text(req.get("statement_id"), "statement_id"))

    @transaction
    async def ListStatements(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        """The clearing statements of a root ticket, oldest id first (``items``)."""
        root_id = d.require_text(req.get("root_id"), "root_id")
        return {"items": [value for _, value in await tx.scan("statement", root_id)]}

    # ------------------------------------------------------------------ queries
    @transaction
    async def GetTicket(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        return public(await tx.ticket(req.get("ticket_id")))

    @transaction
    async def GetHistory(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        ticket = await tx.ticket(req.get("ticket_id"))
        items = []
        for tx_id, when, value in await tx.history("ticket", ticket.id):
            action = (value or {}).get("last_action", {})
            items.append(
                {
                    "tx_id": tx_id,
                    "timestamp": when.isoformat(),
                    "status": (value or {}).get("status"),
                    # what a certificate of this version states (verdicts find where they part)
                    "state_sha256": d.state_sha256(value) if value else None,
                    **action,
                }
            )
        return {"items": items}

    @transaction
    async def GetLineage(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        ticket = await tx.ticket(req.get("ticket_id"))
        docs = {}
        for attrs, _ in await tx.scan("piece", ticket.root_id):
            docs[attrs[1]] = await tx.require("ticket", attrs[1])
        children: dict[str | None, list[str]] = {}
        for doc in docs.values():
            children.setdefault(doc["parent_id"], []).append(doc["id"])

        def tree(ticket_id: str) -> dict[str, Any]:
            doc = {k: v for k, v in docs[ticket_id].items() if k != "last_action"}
            return {"ticket": doc, "children": [tree(child) for child in sorted(children.get(ticket_id, []))]}

        return tree(ticket.root_id)

    @transaction
    async def ListTickets(self, tx: Tx, req: dict[str, Any]) -> dict[str, Any]:
        if req.get("root_id"):
            ids = [attrs[1] for attrs, _ in await tx.scan("piece", req["root_id"])]
        elif req.get("holder_org_id"):
            ids = [attrs[1] for attrs, _ in await tx.scan("holding", req["holder_org_id"])]
        elif req.get("status"):
            ids = [attrs[0] for attrs, _ in await tx.scan("ticket")]
        else:
            raise d.InvalidInputError("list tickets by root_id, holder_org_id or status")
        tickets = [public(await tx.ticket(ticket_id)) for ticket_id in ids]
        if req.get("status"):
            tickets = [t for t in tickets if t["status"] == req["status"]]
        return {"items": tickets, "total": len(tickets)}
