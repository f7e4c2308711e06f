"""What every transaction of the contract stands on: the ``@transaction`` wrapper (one JSON
object in, JSON out, one event per write, domain errors as ``"<code>: <sentence>"``), ``Tx``
(state plus the registered caller) and the read-only queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fabric_chaincode_python.fabric_contract_api import TransactionContext

from goldticket import domain as d

from .identity import Caller, caller_from_certificate
from .private import private_request
from .state import State, decode_request, encode

ROLES = ("operator", "core", "supplier", "bank")
READER_ROLE = "reader"  # the portal's read identity: queries only
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
    "GetFinancingTerms",
    "GetCertificate",
    "GetStatement",
    "GetStatements",
    "GetBankPayments",
    "GetOverdue",
    "ListOverdue",
    "GetRegistrations",
    "SearchRegistrations",
    "Ping",
    "Rehearse",
    "GetDualControl",
    "GetOperation",
    "ListOperations",
    "ListAccountChanges",
)


def transaction(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[str]]:
    """Parse the JSON request (its private fields merged in from the transient map), run,
    encode the result; domain errors keep their code."""

    async def run(self: Any, ctx: TransactionContext, request: str) -> str:
        try:
            tx, req = Tx(ctx), decode_request(request)
            private = private_request(tx.stub)
            if set(private) & set(req):
                raise d.InvalidInputError("a field is both in the request and in its private part")
            req.update(private)
            tx.private_fields = frozenset(private)
            result = await fn(self, tx, req)
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
    run.is_transaction = True  # type: ignore[attr-defined]  # what Rehearse may run
    run.inner = fn  # type: ignore[attr-defined]  # what an approved operation runs (dual_control.py)
    return run


class Tx(State):
    """State plus the caller of one transaction."""

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx.get_stub())
        self.ctx = ctx
        # the request's fields that came in the transient map (not in any block)
        self.private_fields: frozenset[str] = frozenset()
        # the prepared operation this transaction approves (chaincode/dual_control.py), if any
        self.approval: dict[str, Any] | None = None

    def signer(self) -> Caller:
        creator = self.stub.get_creator()
        return caller_from_certificate(creator["mspid"], bytes(creator["idBytes"]))

    async def caller(self, *roles: str, admin: bool = False) -> tuple[Caller, dict[str, Any]]:
        """The registered, unrevoked caller and its member; ForbiddenError otherwise. A read
        identity (role ``reader``, the portal's) signs no write."""
        caller, member = await self._registered()
        if caller.role == READER_ROLE:
            raise d.ForbiddenError("a read identity signs no transaction")
        if roles and member["role"] not in roles:
            raise d.ForbiddenError(f"only a {' or '.join(roles)} member may do this")
        if admin and caller.role != "admin":
            raise d.ForbiddenError("only an admin user may do this")
        return caller, member

    async def viewer(self) -> tuple[Caller, dict[str, Any]]:
        """Who runs a query: a registered, unrevoked identity (a read identity included) and its
        member; NotFoundError before the ledger is bootstrapped (there is nothing to read),
        ForbiddenError for anyone else."""
        if await self.get("config", "bootstrap") is None:
            raise d.NotFoundError("the ledger is not bootstrapped")
        return await self._registered()

    async def _registered(self) -> tuple[Caller, dict[str, Any]]:
        caller = self.signer()
        # the identity and its member in one round trip (the member's id is in the certificate)
        identity, member = await self.get_many(
            ("identity", (caller.key_id,)), ("member", (caller.member_id,))
        )
        if identity is None or identity["status"] != "ACTIVE":
            raise d.ForbiddenError("the signer's identity is not registered or has been revoked")
        registered = (identity["member_id"], identity["msp_id"], identity["role"], identity["user"])
        if registered != (caller.member_id, caller.msp_id, caller.role, caller.user):
            raise d.ForbiddenError("the signer's certificate does not match its registered identity")
        if member is None:
            raise d.NotFoundError(f"no member {caller.member_id}")
        if member["msp_id"] != caller.msp_id:
            raise d.ForbiddenError("the signer's MSP does not issue identities for its member")
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
        if self.approval is not None and "checker" in self.approval:
            # maker-checker: the caller is the reviewer who signed; the maker prepared it
            doc["last_action"].update(
                operation_id=self.approval["id"],
                maker_user=self.approval["maker"]["user"],
                maker_card_serial=self.approval["maker"]["card_serial"],
            )
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

    async def release_credit(self, ticket: d.Ticket, amount_fen: int) -> None:
        """Give ``amount_fen`` back to the credit line the ticket was issued against."""
        if ticket.credit_line_id is None:
            return
        line = d.CreditLine.from_dict(
            await self.require("credit", ticket.issuer_org_id, ticket.credit_line_id)
        )
        await self.put("credit", (ticket.issuer_org_id, line.id), line.release(amount_fen).to_dict())

    async def release_invoices(self, ticket: d.Ticket) -> None:
        """Give back exactly what this ticket drew from each invoice when it was issued."""
        draws = await self.require("draws", ticket.id)
        for sha256, drawn_fen in sorted(draws.items()):
            record = await self.require("invoice", sha256)
            record["used_fen"] -= drawn_fen
            await self.put("invoice", (sha256,), record)
        await self.delete("draws", ticket.id)


def public(ticket: d.Ticket) -> dict[str, Any]:
    data = ticket.to_dict()
    if ticket.offer_id is None:
        data.pop("offer_id")
    if ticket.application_id is None:
        data.pop("application_id")
    return data
