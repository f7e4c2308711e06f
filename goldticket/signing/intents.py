"""What a user asked for, and the checks that a Fabric message does exactly that.

The gateway signs a proposal only if its creator is the card's identity and its function and
JSON argument are the intent's; it signs a transaction envelope only if it belongs to a
proposal it signed for the same intent (same header, same proposal hash) and the write set the
endorsers produced is what the intent implies. Anything else is refused with a reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any

from cryptography import x509

from goldticket.messages import (
    DecodedProposal,
    DecodedTransaction,
    Identity,
    MessageError,
    decode_proposal,
    decode_transaction,
    sha256,
)

from .errors import RefusedError

KEY_SEPARATOR = "\x00"
# Request fields naming the object an operation changes, and the state kind it lives under.
# (A settlement writes the root's clearing statement, keyed by the root id first.)
TARGETS = {
    "ticket_id": "ticket",
    "root_id": "statement",
    "offer_id": "offer",
    "application_id": "application",
}
_TICKET = frozenset({"ticket", "holding"})
_SPLIT = _TICKET | {"piece"}
# The state kinds each function may write; anything else in the write set is refused.
WRITABLE: dict[str, frozenset[str]] = {
    "Ping": frozenset({"ping"}),
    "Bootstrap": frozenset({"member", "identity", "member_identity", "config"}),
    "RegisterMember": frozenset({"member"}),
    "SetTermCap": frozenset({"config"}),
    "RequireDocuments": frozenset({"config"}),
    "UpdateMember": frozenset({"member"}),
    "RegisterIdentity": frozenset({"identity", "member_identity", "member"}),  # member: onboarded_tx
    "ApproveIdentity": frozenset({"identity"}),
    "ExpectIdentity": frozenset({"expected_identity"}),
    "ClaimIdentity": frozenset(
        {"identity", "member_identity", "expected_identity", "member"}
    ),  # member: onboarded_tx
    "RevokeIdentity": frozenset({"identity"}),
    "SuspendIdentity": frozenset({"identity"}),
    "ResumeIdentity": frozenset({"identity"}),
    "ApproveRecovery": frozenset({"identity"}),
    "GrantCreditLine": frozenset({"credit"}),
    "AcceptCreditLine": frozenset({"credit"}),
    "DeclineCreditLine": frozenset({"credit"}),
    "IssueTicket": _SPLIT | {"invoice", "invoice_number", "credit", "draws"},
    "AcceptTicket": _TICKET,
    "RejectTicket": _TICKET | {"invoice", "credit", "draws"},
    "CancelTicket": _TICKET | {"invoice", "credit", "draws"},
    "OfferTransfer": _TICKET | {"offer"},
    "AcceptOffer": _SPLIT | {"offer"},
    "RejectOffer": _TICKET | {"offer"},
    "CancelOffer": _TICKET | {"offer"},
    "ApplyFinancing": _TICKET | {"application"},
    "ApproveFinancing": _SPLIT | {"application", "financed"},
    "RejectFinancing": _TICKET | {"application"},
    "SettleTicket": _TICKET | {"offer", "application", "credit", "statement"},
    "FreezeTicket": _TICKET,
    "UnfreezeTicket": _TICKET,
    "RecordCertificate": frozenset({"certificate", "certificate_ref"}),
    "RecordBankPayments": frozenset({"bankpay"}),
    "MarkOverdue": frozenset({"overdue"}),
    "DemandPayment": frozenset({"demand"}),
    "CloseDemand": frozenset({"demand", "overdue"}),
    # maker-checker (#20): the setting lives in the member's record; an approval writes the
    # operation and what its prepared function writes (checked as that function's, below)
    "SetDualControl": frozenset({"member"}),
    "PrepareOperation": frozenset({"operation", "member_operation"}),
    "RejectOperation": frozenset({"operation"}),
    "RecordRegistration": frozenset({"registration", "registration_invoice"}),
    # a change of settlement account (#21): the change and the member's record that names it
    "RequestAccountChange": frozenset({"account_change", "member"}),
    "ConfirmAccountChange": frozenset({"account_change", "member"}),
    "RejectAccountChange": frozenset({"account_change", "member"}),
}
# the functions a prepared operation may run (goldticket.domain.dual_control.PREPARED): the
# covered operations, and a weakening of the setting itself
REVIEWED = frozenset({"IssueTicket", "OfferTransfer", "ApproveFinancing", "SettleTicket", "SetDualControl"})
# Where a function writes no ticket, the request's ticket id names what it reads, not changes.
# Functions only the platform's own identity (a card of the operator member) signs: a holder's
# card must not anchor a hash of its choosing as a certificate. The chaincode checks it too.
PLATFORM_MEMBER = "operator"
PLATFORM_ONLY = frozenset({"RecordCertificate"})
ATTRIBUTES_OID = x509.ObjectIdentifier("1.2.3.4.5.6.7.8.1")


def _member_of(identity: Identity) -> str | None:
    """The member attribute of the identity's certificate, or None."""
    try:
        certificate = x509.load_pem_x509_certificate(identity.certificate_pem)
        value = certificate.extensions.get_extension_for_oid(ATTRIBUTES_OID).value
        member = json.loads(value.value)["attrs"]["member"]  # type: ignore[attr-defined]
    except (ValueError, KeyError, TypeError, x509.ExtensionNotFound):
        return None
    return str(member)


_TARGETS_BY_FUNCTION = {
    "RecordCertificate": {"sha256": "certificate"},
    "UpdateMember": {"id": "member"},
    "RecordBankPayments": {"root_id": "bankpay"},
    # overdue and recourse write no ticket: the piece's overdue record and its demands
    "MarkOverdue": {"ticket_id": "overdue"},
    "DemandPayment": {"ticket_id": "demand"},
    "CloseDemand": {"ticket_id": "demand"},
    "SetDualControl": {},
    "PrepareOperation": {},
    "RejectOperation": {"operation_id": "operation"},
    # a registration is recorded under its application: no ticket or application changes
    "RecordRegistration": {"application_id": "registration"},
    "RequestAccountChange": {},
    "ConfirmAccountChange": {"member_id": "member"},
    "RejectAccountChange": {"member_id": "member"},
}


@dataclasses.dataclass(frozen=True)
class Intent:
    function: str
    request: dict[str, Any]

    @classmethod
    def from_dict(cls, data: Any) -> Intent:
        if not isinstance(data, dict) or not isinstance(data.get("function"), str):
            raise RefusedError("the intent must name a function and its request")
        request = data.get("request")
        if not isinstance(request, dict):
            raise RefusedError("the intent's request must be an object")
        return cls(data["function"], request)

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "request": self.request}


def split_key(key: str) -> tuple[str, list[str]] | None:
    """(kind, attributes) of a composite key, or None for a plain key."""
    if not key.startswith(KEY_SEPARATOR):
        return None
    parts = key[1:].split(KEY_SEPARATOR)
    return parts[0], parts[1:-1]


# A Fabric peer's time window; dev and test clocks (GOLDTICKET_TODAY) move the business date by
# years, so there the gateway accepts what a dev network accepts (docs/fabric.md, Clock).
PROD_TIME_WINDOW = dt.timedelta(minutes=15)
DEV_TIME_WINDOW = dt.timedelta(days=3650)


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What a proposal must name and when it may be stamped: this deployment's channel and
    chaincode (GOLDTICKET_CHANNEL, GOLDTICKET_CHAINCODE) and how far its timestamp may be from
    the gateway's clock (15 minutes in prod, as a Fabric peer's time window)."""

    channel: str = "goldticket"
    chaincode: str = "goldticket"
    time_window: dt.timedelta = PROD_TIME_WINDOW


def check_proposal(
    message: bytes,
    intent: Intent,
    identity: Identity,
    deployment: Deployment | None = None,
    now: dt.datetime | None = None,
) -> DecodedProposal:
    """Raise RefusedError unless ``message`` is a proposal by ``identity`` doing ``intent`` on
    the deployment's channel and chaincode, stamped within its time window of ``now``."""
    deployment = deployment or Deployment()
    try:
        proposal = decode_proposal(message)
    except MessageError as error:
        raise RefusedError(f"not a proposal the gateway can read: {error}") from error
    if proposal.channel_id != deployment.channel:
        raise RefusedError(
            f"the proposal is for channel {proposal.channel_id!r}, this gateway signs for {deployment.channel!r}"
        )
    if proposal.chaincode != deployment.chaincode:
        raise RefusedError(
            f"the proposal is for chaincode {proposal.chaincode!r}, this gateway signs for "
            f"{deployment.chaincode!r}"
        )
    now = now or dt.datetime.now(dt.UTC)
    if abs(proposal.timestamp - now) > deployment.time_window:
        raise RefusedError(
            f"the proposal's timestamp {proposal.timestamp.isoformat()} is outside the gateway's "
            f"time window of {deployment.time_window} around {now.isoformat()}"
        )
    if proposal.creator != identity:
        raise RefusedError("the proposal's creator is not this card's identity")
    if proposal.function != intent.function:
        raise RefusedError(f"the proposal calls {proposal.function}, the intent is {intent.function}")
    if intent.function in PLATFORM_ONLY and _member_of(identity) != PLATFORM_MEMBER:
        raise RefusedError(f"only the platform's own identity signs {intent.function}")
    if len(proposal.args) != 1 or _request(proposal) != intent.request:
        raise RefusedError("the proposal's arguments differ from the intent")
    return proposal


# The transient map's entry with a request's private fields (goldticket/ledger/contract.py):
# the intent states the whole request, the proposal carries it split in two (#19).
PRIVATE_REQUEST = "request"


def _request(proposal: DecodedProposal) -> Any:
    """The request a proposal makes: its argument with the private fields of its transient map
    merged in (None when the two overlap or the map holds anything else)."""
    public = _json(proposal.args[0])
    transient = proposal.transient_map
    if not transient:
        return public
    private = _json(transient[PRIVATE_REQUEST]) if set(transient) == {PRIVATE_REQUEST} else None
    if not isinstance(public, dict) or not isinstance(private, dict) or set(public) & set(private):
        return None
    return {**public, **private}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def check_transaction(
    message: bytes, intent: Intent, identity: Identity, proposal: DecodedProposal
) -> DecodedTransaction:
    """Raise RefusedError unless the envelope payload belongs to ``proposal`` and its write set
    is what ``intent`` implies."""
    try:
        tx = decode_transaction(message)
    except MessageError as error:
        raise RefusedError(f"not a transaction the gateway can read: {error}") from error
    if tx.tx_id != proposal.tx_id or tx.creator != identity:
        raise RefusedError("the transaction does not belong to the proposal signed for this intent")
    if (tx.channel_header_bytes, tx.signature_header_bytes) != (
        proposal.channel_header_bytes,
        proposal.signature_header_bytes,
    ):
        raise RefusedError("the transaction's header is not the signed proposal's header")
    if not tx.proposal_hash_matches or (tx.function, tx.args) != (proposal.function, proposal.args):
        raise RefusedError("the endorsed proposal is not the one signed for this intent")
    if tx.response_status >= 400:
        raise RefusedError("the endorsers refused the proposal")
    check_writes(intent, tx)
    return tx


# A Fabric peer adds a read of the chaincode definition (its sequence in ``_lifecycle``) to
# every transaction's read set, so a definition change invalidates transactions in flight.
LIFECYCLE_NAMESPACE = "_lifecycle"


def _writes(tx: DecodedTransaction) -> dict[tuple[str, tuple[str, ...]], dict[str, Any] | None]:
    writes: dict[tuple[str, tuple[str, ...]], dict[str, Any] | None] = {}
    own = [rwset for rwset in tx.rwsets if rwset.namespace == tx.chaincode]
    others = [rwset for rwset in tx.rwsets if rwset.namespace != tx.chaincode]
    # (A transaction that reads and writes nothing of its own, such as Ping, has no rwset of its
    # own namespace on Fabric.)
    if len(own) > 1 or any(rwset.namespace != LIFECYCLE_NAMESPACE or rwset.writes for rwset in others):
        namespaces = ", ".join(f"{r.namespace} ({len(r.writes)} writes)" for r in tx.rwsets)
        raise RefusedError(f"the transaction writes outside its own chaincode {tx.chaincode}: {namespaces}")
    for write in own[0].writes if own else ():
        parsed = split_key(write.key)
        if parsed is None:
            raise RefusedError(f"the transaction writes an unexpected key {write.key!r}")
        value = None if write.is_delete else _json(write.value)
        writes[(parsed[0], tuple(parsed[1]))] = value
    return writes


def check_writes(intent: Intent, tx: DecodedTransaction) -> None:
    """The keys and amounts the write set changes must be the ones the intent names."""
    writes = _writes(tx)
    if intent.function == "ApproveOperation":
        # a reviewer signs the prepared intent: the operation closed as approved, and otherwise
        # exactly what that intent's own function may write, checked as if signed directly
        intent = _check_approval(intent, writes)
        if intent.function == "SetDualControl":
            _check_dual_control(intent, writes)
    elif intent.function in ("PrepareOperation", "RejectOperation", "SetDualControl"):
        _check_dual_control(intent, writes, tx)
    _check_intent_writes(intent, writes, tx)


# A prepared financing approval's private fields (goldticket.domain.dual_control.PRIVATE), stated
# beside the prepared request with the intent's salt (#20): the hash recorded is salted.
PREPARED_PRIVATE = {"ApproveFinancing": ("annual_rate_bp", "terms_salt")}
INTENT_SALT = "intent_salt"
# What the reviewer who commits a prepared operation states beside it (#21,
# goldticket.domain.dual_control.AT_APPROVAL): the countersignature their own card made of the
# holder's assignment. Outside the prepared intent's hash; checked in the write set as the
# approved function's own field.
AT_APPROVAL = {"ApproveFinancing": ("countersigned_assignment_sha256",)}


def _reviewed_intent(request: dict[str, Any]) -> Intent:
    """The prepared intent a preparation or an approval states: its function and its request,
    with the private fields stated beside it merged in."""
    function, stated = str(request.get("function")), request.get("request")
    private = {name: request[name] for name in PREPARED_PRIVATE.get(function, ()) if name in request}
    if isinstance(stated, dict) and private:
        if set(private) & set(stated):
            raise RefusedError("a private field of the prepared request is stated in it too")
        stated = {**stated, **private}
    inner = Intent(function, stated)  # type: ignore[arg-type]
    if inner.function not in REVIEWED or not isinstance(inner.request, dict):
        raise RefusedError(
            "an operation for review is an issue, transfer, financing approval, settlement or setting"
        )
    return inner


def _intent_sha256(intent: Intent, salt: Any = None) -> str:
    """The intent's hash as the operation records it; salted where the request states a salt."""
    encoded = json.dumps(intent.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if salt is None:
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    if not isinstance(salt, str):
        raise RefusedError(f"{INTENT_SALT} must be a string")
    return hashlib.sha256(encoded.encode("utf-8") + b"\n" + salt.encode("utf-8")).hexdigest()


def _check_approval(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any]) -> Intent:
    inner = _reviewed_intent(intent.request)
    operation_id = _required(intent.request, "operation_id")
    operations = [(attrs, value) for (kind, attrs), value in writes.items() if kind == "operation"]
    if len(operations) != 1 or operations[0][0] != (str(operation_id),):
        raise RefusedError(f"the approval must write exactly the operation {operation_id}")
    salt = intent.request.get(INTENT_SALT)
    _same(operations[0][1] or {}, "operation", status="APPROVED", intent_sha256=_intent_sha256(inner, salt))
    del writes[("operation", (str(operation_id),))]
    stated = {
        name: intent.request[name] for name in AT_APPROVAL.get(inner.function, ()) if name in intent.request
    }
    return Intent(inner.function, {**inner.request, **stated}) if stated else inner


def _check_dual_control(
    intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any], tx: DecodedTransaction | None = None
) -> None:
    request = intent.request
    if intent.function == "SetDualControl":
        members = [value for (kind, _), value in writes.items() if kind == "member" and value]
        if len(members) != 1:
            raise RefusedError("the setting must write exactly one member")
        setting = members[0].get("dual_control") or {}
        for field in ("operations", "threshold_fen", "reviewers"):
            stated = request.get(field, [] if field == "reviewers" else None)
            if field != "threshold_fen":
                stated = sorted(set(stated or []))
            if setting.get(field) != stated:
                raise RefusedError(
                    f"the setting written has {field} {setting.get(field)!r}, the intent says {stated!r}"
                )
        return
    operations = [value for (kind, _), value in writes.items() if kind == "operation" and value]
    if intent.function == "PrepareOperation":
        inner = _reviewed_intent(request)
        salt = request.get(INTENT_SALT)
        _one(operations, "operation", status="PENDING", intent_sha256=_intent_sha256(inner, salt))
        if tx is not None:
            _check_prepared_private(tx, operations[0], salt is not None)
    else:
        _one(operations, "operation", id=_required(request, "operation_id"), status="REJECTED")


def _check_prepared_private(tx: DecodedTransaction, operation: dict[str, Any], private: bool) -> None:
    """A preparation with private fields writes them once, to the maker's own terms collection
    under its operation; one without writes no private data."""
    written = [(c.collection, w) for rwset in tx.rwsets for c in rwset.collections for w in c.writes]
    if not private:
        if written:
            raise RefusedError("the preparation writes private data its intent does not have")
        return
    collection = f"terms-{tx.creator.msp_id}"
    key = f"{KEY_SEPARATOR}operation_terms{KEY_SEPARATOR}{operation.get('id')}{KEY_SEPARATOR}".encode()
    if operation.get("private") != collection or [(name, w.key_hash, w.is_delete) for name, w in written] != [
        (collection, sha256(key), False)
    ]:
        raise RefusedError("the preparation must write exactly its private fields to the maker's collection")


def _check_intent_writes(
    intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any], tx: DecodedTransaction
) -> None:
    request, tx_id = intent.request, tx.tx_id
    allowed = WRITABLE.get(intent.function)
    if allowed is None:
        raise RefusedError(f"the gateway does not sign {intent.function} transactions")
    stray = sorted({kind for kind, _ in writes} - allowed)
    if stray:
        raise RefusedError(f"{intent.function} may not write {', '.join(stray)}")
    for field, kind in _TARGETS_BY_FUNCTION.get(intent.function, TARGETS).items():
        if field in request and not any(
            written_kind == kind and attrs[:1] == (str(request[field]),) for written_kind, attrs in writes
        ):
            raise RefusedError(
                f"the transaction does not change the {kind} {request[field]} the intent names"
            )
    tickets = {attrs[0]: value for (kind, attrs), value in writes.items() if kind == "ticket" and value}
    offers = [value for (kind, _), value in writes.items() if kind == "offer" and value]
    applications = [value for (kind, _), value in writes.items() if kind == "application" and value]
    _check_conservation(tickets, tx_id)
    _check_tickets_touched(intent, tickets, offers + applications, tx_id)
    expected = request.get("amount_fen")
    if intent.function == "OfferTransfer":
        _one(
            offers,
            "offer",
            amount_fen=expected,
            to_org_id=request.get("to_org_id"),
            ticket_id=request.get("ticket_id"),
        )
        for field in ("agreement_sha256", "notice_sha256"):
            if offers[0].get(field) != request.get(field):
                raise RefusedError(f"the offer written does not carry the {field} the intent states")
    elif intent.function == "AcceptOffer":
        _one(offers, "offer", id=_required(request, "offer_id"), status="ACCEPTED")
        if offers[0].get("countersigned_sha256") != request.get("countersigned_sha256"):
            raise RefusedError(
                "the offer written does not carry the countersigned agreement the intent states"
            )
    elif intent.function == "ApplyFinancing":
        _one(
            applications,
            "application",
            amount_fen=expected,
            bank_org_id=request.get("bank_org_id"),
            max_annual_rate_bp=_required(request, "max_annual_rate_bp"),
        )
        if applications[0].get("recourse") != request.get("recourse"):
            raise RefusedError("the application written does not carry the recourse choice the intent states")
        if applications[0].get("assignment_sha256") != request.get("assignment_sha256"):
            raise RefusedError(
                "the application written does not carry the assignment's hash the intent states"
            )
    elif intent.function == "ApproveFinancing":
        _check_rate_bound(request, applications)
        _check_private_terms(tx, applications[0], request)
        _check_financed(writes, applications[0], tx_id)
        if applications[0].get("countersigned_assignment_sha256") != request.get(
            "countersigned_assignment_sha256"
        ):
            raise RefusedError(
                "the application written does not carry the countersigned assignment's hash the intent states"
            )
    elif intent.function in ("GrantCreditLine", "AcceptCreditLine", "DeclineCreditLine"):
        _check_credit_line(intent, writes)
    elif intent.function == "RecordBankPayments":
        _check_bank_payments(intent, writes, tx_id)
    elif intent.function in ("MarkOverdue", "DemandPayment", "CloseDemand"):
        _check_recourse(intent, writes)
    elif intent.function == "RecordRegistration":
        _check_registration(intent, writes)
    elif intent.function in ("RequestAccountChange", "ConfirmAccountChange", "RejectAccountChange"):
        _check_account_change(intent, writes)
    elif intent.function == "IssueTicket":
        new = list(tickets.values())
        if len(new) != 1:
            raise RefusedError("an issue must create exactly one ticket")
        _same(
            new[0],
            "ticket",
            amount_fen=expected,
            holder_org_id=request.get("payee_org_id"),
            maturity_date=request.get("maturity_date"),
            status="PENDING_ACCEPTANCE",
        )
        stated = str(request.get("term_reason") or "").strip() or None
        if new[0].get("term_reason") != stated:
            raise RefusedError("the ticket written does not carry the term reason the intent states")
        if new[0].get("grace_days") != request.get("grace_days"):
            raise RefusedError("the ticket written does not carry the grace days the intent states")
        if new[0].get("commitment_sha256") != request.get("commitment_sha256"):
            raise RefusedError(
                "the ticket written does not carry the payment commitment's hash the intent states"
            )


def _check_account_change(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
    """One change and its member's record, written as the intent states: a request PENDING with
    the stated hash, the member naming it; a confirmation CONFIRMED, the member's KYC hash the
    stated one; a rejection REJECTED."""
    request = intent.request
    changes = [value for (kind, _), value in writes.items() if kind == "account_change" and value]
    members = [value for (kind, _), value in writes.items() if kind == "member" and value]
    if len(members) != 1:
        raise RefusedError("an account change must write exactly one member")
    if intent.function == "RequestAccountChange":
        _one(changes, "account change", status="PENDING", kyc_sha256=request.get("kyc_sha256"))
        _same(members[0], "member", id=changes[0]["member_id"], pending_account_change=changes[0]["id"])
        if members[0].get("kyc_sha256") != changes[0].get("previous_kyc_sha256"):
            raise RefusedError(
                "a request changes the member's KYC hash: only the operator's confirmation does"
            )
        return
    status = "CONFIRMED" if intent.function == "ConfirmAccountChange" else "REJECTED"
    _one(
        changes,
        "account change",
        id=request.get("change_id"),
        member_id=request.get("member_id"),
        status=status,
    )
    _same(members[0], "member", id=request.get("member_id"))
    if members[0].get("pending_account_change"):
        raise RefusedError("the member's record still names a pending account change")
    if status == "CONFIRMED":
        _same(members[0], "member", kyc_sha256=request.get("kyc_sha256"))
        _same(changes[0], "account change", kyc_sha256=request.get("kyc_sha256"))


REGISTRATION_FIELDS = (
    "registration_number",
    "registry",
    "registered_on",
    "expires_on",
    "filing_sha256",
    "invoice_numbers",
)


def _check_registration(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
    """#21: the registration written is the application's, with the number, dates, filing
    hash and invoice numbers the card was shown; an amendment replaces only what it names."""
    request = intent.request
    written = [
        value
        for (kind, attrs), value in writes.items()
        if kind == "registration"
        and value
        and attrs[:1] == (str(request.get("application_id")),)
        and not value.get("amended_by")
    ]
    if len(written) != 1:
        raise RefusedError("a registration must write exactly one new registration of the application")
    _same(written[0], "registration", **{field: request.get(field) for field in REGISTRATION_FIELDS})
    if written[0].get("amends") != request.get("amends"):
        raise RefusedError("the registration written does not amend what the intent states")
    replaced = [
        value
        for (kind, _), value in writes.items()
        if kind == "registration" and value and value.get("amended_by")
    ]
    if any(value["registration_id"] != request.get("amends") for value in replaced) or len(replaced) > 1:
        raise RefusedError("the transaction replaces a registration the intent does not name")


def _check_recourse(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
    """Overdue and recourse (#21): the records written are the piece's the intent names, and
    what they say is what the card was shown: a demand of that obligor, amount and document
    hash; a close of that demand with that outcome."""
    request = intent.request
    piece = str(request.get("ticket_id"))
    for (kind, attrs), value in writes.items():
        if not value or attrs[:1] != (piece,):
            raise RefusedError(f"the transaction writes a {kind} of another ticket than the intent's")
        if kind == "overdue" and intent.function == "MarkOverdue":
            _same(value, "overdue record", ticket_id=piece, status="OVERDUE")
    demands = [value for (kind, _), value in writes.items() if kind == "demand"]
    if intent.function == "DemandPayment":
        _one(
            demands,
            "demand",
            ticket_id=piece,
            obligor_org_id=_required(request, "obligor_org_id"),
            amount_fen=_required(request, "amount_fen"),
            document_sha256=_required(request, "document_sha256"),
            status="OPEN",
        )
    elif intent.function == "CloseDemand":
        outcome = {"paid": "PAID", "written_off": "WRITTEN_OFF"}.get(str(request.get("outcome")))
        if outcome is None:
            raise RefusedError("the intent states no outcome (paid or written_off)")
        _one(demands, "demand", ticket_id=piece, demand_id=_required(request, "demand_id"), status=outcome)
        if demands[0].get("payment_reference") != request.get("payment_reference"):
            raise RefusedError("the demand written does not carry the payment reference the intent states")


def _check_bank_payments(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any], tx_id: str) -> None:
    """Payments recorded under the intent's root and statement, each booked now one the intent
    lists (piece, amount, bank reference, date): the card is never made to record a payment
    it was not shown."""
    request = intent.request
    listed = {
        (str(e.get("ticket_id")), e.get("amount_fen"), str(e.get("bank_reference")), str(e.get("booked_on")))
        for e in request.get("entries") or []
        if isinstance(e, dict)
    }
    for (kind, attrs), value in writes.items():
        if kind != "bankpay":
            continue
        if not value or attrs[:1] != (str(request.get("root_id")),):
            raise RefusedError("the transaction records a payment of another ticket than the intent's")
        _same(value, "payment record", statement_id=_required(request, "statement_id"), ticket_id=attrs[-1])
        for payment in value.get("payments", []):
            booked = (
                attrs[-1],
                payment.get("amount_fen"),
                payment.get("bank_reference"),
                payment.get("booked_on"),
            )
            if payment.get("tx_id") == tx_id and booked not in listed:
                raise RefusedError(f"the transaction records a payment the intent does not list: {booked}")


def _required(request: dict[str, Any], field: str) -> Any:
    if request.get(field) is None:
        raise RefusedError(f"the intent states no {field}")
    return request[field]


def _check_rate_bound(request: dict[str, Any], applications: list[dict[str, Any]]) -> None:
    """The bank's rate may not exceed the bound the holder signed: the intent states both, the
    approved application written must carry that very bound and that rate."""
    rate, bound = request.get("annual_rate_bp"), request.get("max_annual_rate_bp")
    if len(applications) != 1:
        raise RefusedError("the transaction must write exactly one application")
    written = applications[0]
    if written.get("max_annual_rate_bp") is None:
        return  # an application made before bounds existed (docs/decisions.md)
    if bound != written["max_annual_rate_bp"]:
        raise RefusedError(
            f"the intent states the bound {bound!r}, the application's is {written['max_annual_rate_bp']!r}"
        )
    if not isinstance(rate, int) or isinstance(rate, bool) or rate > bound:
        raise RefusedError(f"the rate {rate!r} bp exceeds the holder's bound of {bound} bp")
    if written.get("terms") is not None:
        # private terms (#19): the rate went to the endorsers in the transient map the gateway
        # checked (check_proposal) and the block holds only the terms' hash (_check_private_terms)
        return
    if (written.get("quote") or {}).get("annual_rate_bp") != rate:
        raise RefusedError("the application written is not approved at the intent's rate")


def _check_private_terms(
    tx: DecodedTransaction, application: dict[str, Any], request: dict[str, Any]
) -> None:
    """Private data only where the application written names it: one write, of its terms key,
    to its collection, salted (the intent states a random ``terms_salt``: the channel's hash of
    unsalted terms gives the rate away); an approval with public terms writes none."""
    written = [(c.collection, w) for rwset in tx.rwsets for c in rwset.collections for w in c.writes]
    collection = application.get("terms")
    if collection is None:
        if written:
            raise RefusedError("the approval writes private data its application does not name")
        return
    salt = request.get("terms_salt")
    if not isinstance(salt, str) or len(salt) < 32:
        raise RefusedError("private terms need a random terms_salt of 128 bits or more")
    if collection != f"terms-{tx.creator.msp_id}":
        raise RefusedError(f"the terms go to {collection!r}, not the approving bank's own collection")
    key = f"{KEY_SEPARATOR}terms{KEY_SEPARATOR}{application.get('id')}{KEY_SEPARATOR}".encode()
    if [(name, w.key_hash, w.is_delete) for name, w in written] != [(collection, sha256(key), False)]:
        raise RefusedError("the approval must write exactly its application's terms to its collection")


def _check_financed(
    writes: dict[tuple[str, tuple[str, ...]], Any], application: dict[str, Any], tx_id: str
) -> None:
    """#21: the recourse record an approval writes is the approved application's own choice, for
    the piece this approval creates: a bank is never given recourse the holder did not sign."""
    financed = [(attrs, value) for (kind, attrs), value in writes.items() if kind == "financed"]
    if application.get("recourse") is None:
        if financed:
            raise RefusedError("the approval writes a recourse record for an application that states none")
        return
    if len(financed) != 1:
        raise RefusedError("the approval must write exactly one recourse record")
    (attrs, value), pieces = (
        financed[0],
        {attrs[0]: ticket for (kind, attrs), ticket in writes.items() if kind == "ticket" and ticket},
    )
    piece = pieces.get(attrs[0]) if attrs else None
    if piece is None or piece.get("tx_id") != tx_id or piece.get("status") != "FINANCED":
        raise RefusedError("the recourse record is not of the piece this approval finances")
    _same(value or {}, "recourse record", application_id=application.get("id"))
    if (value or {}).get("recourse") is not application["recourse"]:
        raise RefusedError("the recourse record differs from the application's recourse choice")


def _check_credit_line(intent: Intent, writes: dict[tuple[str, tuple[str, ...]], Any]) -> None:
    """An offer writes one line of the intent's core and limit, offered; an answer changes the
    line the intent names to the status it asks for."""
    lines = [value for (kind, _), value in writes.items() if kind == "credit" and value]
    request = intent.request
    if intent.function == "GrantCreditLine":
        _one(
            lines,
            "credit line",
            core_org_id=request.get("core_org_id"),
            limit_fen=request.get("limit_fen"),
            status="offered",
            used_fen=0,
        )
    else:
        status = "active" if intent.function == "AcceptCreditLine" else "declined"
        _one(lines, "credit line", id=_required(request, "credit_line_id"), status=status)


def _check_conservation(tickets: dict[str, dict[str, Any]], tx_id: str) -> None:
    """Pieces this transaction creates must add up exactly to the piece they split."""
    children: dict[str, int] = {}
    for ticket in tickets.values():
        parent = ticket.get("parent_id")
        if parent and ticket.get("tx_id") == tx_id:
            children[parent] = children.get(parent, 0) + int(ticket.get("amount_fen", 0))
    for parent_id, total in children.items():
        parent = tickets.get(parent_id)
        if parent is None or parent.get("status") != "SPLIT" or parent.get("amount_fen") != total:
            raise RefusedError(f"the new pieces of ticket {parent_id} do not add up to it")


def _check_tickets_touched(
    intent: Intent, tickets: dict[str, dict[str, Any]], links: list[dict[str, Any]], tx_id: str
) -> None:
    """Every ticket written is the one the intent names (directly, or through the offer or
    application it names), a piece this transaction creates, or a piece of the root it settles."""
    named = {str(intent.request[field]) for field in ("ticket_id",) if field in intent.request}
    named |= {str(link["ticket_id"]) for link in links if link.get("ticket_id")}
    root = intent.request.get("root_id") if intent.function == "SettleTicket" else None
    for ticket_id, ticket in tickets.items():
        if ticket_id in named or ticket.get("tx_id") == tx_id or (root and ticket.get("root_id") == root):
            continue
        raise RefusedError(f"the transaction changes ticket {ticket_id}, which the intent does not name")


def _one(values: list[dict[str, Any]], what: str, **expected: Any) -> None:
    if len(values) != 1:
        raise RefusedError(f"the transaction must write exactly one {what}")
    _same(values[0], what, **expected)


def _same(value: dict[str, Any], what: str, **expected: Any) -> None:
    for field, wanted in expected.items():
        if wanted is not None and value.get(field) != wanted:
            raise RefusedError(
                f"the {what} written has {field} {value.get(field)!r}, the intent says {wanted!r}"
            )
