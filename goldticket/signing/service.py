"""The signing service: holds the cards, checks each message against its intent, keeps the
audit log, counts wrong PINs and rate-limits each card. The gateway process serves it over
HTTP; a process may also use it in-process (the CLI on one machine)."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import errno
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from goldticket.messages import DecodedProposal, Identity, sha256

from . import metrics
from .audit import AuditLog, canonical_json, secret_paths
from .cards.interfaces import CardFactory
from .documents import SIGN_DOCUMENT, check_document, identity_member
from .errors import (
    AuditLogError,
    CardLockedError,
    CardNotFoundError,
    CardRevokedError,
    RefusedError,
    SigningError,
    WrongPinError,
)
from .intents import Deployment, Intent, check_proposal, check_transaction
from .registry import CardRecord, CardRegistry

PURPOSES = ("proposal", "transaction", "document")
PROPOSAL_MEMORY = 10_000
PROPOSAL_TTL_SECONDS = 600
T = TypeVar("T")


class RateLimitedError(SigningError):
    code = "rate_limited"


class _Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class SigningService:
    def __init__(
        self,
        registry: CardRegistry,
        factories: dict[str, CardFactory],
        audit: AuditLog,
        *,
        rate_per_second: float = 50.0,
        burst: float = 100.0,
        deployment: Deployment | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.registry = registry
        self.factories = factories
        self.audit = audit
        self.deployment = deployment or Deployment()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._rate, self._burst = rate_per_second, burst
        self._buckets: dict[str, _Bucket] = {}
        self._proposals: collections.OrderedDict[str, _Remembered] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._card_locks: dict[str, threading.Lock] = {}

    def identity(self, serial: str) -> Identity:
        record = self.registry.get(serial)
        if not record.certificate_pem or not record.msp_id:
            raise CardNotFoundError(f"card {serial} has not been issued")
        return Identity(record.msp_id, record.certificate_pem.encode())

    def card_for(self, record: CardRecord) -> Any:
        factory = self.factories.get(record.backend)
        if factory is None:
            raise CardNotFoundError(f"no {record.backend} card backend on this gateway")
        return factory.card(record.serial)

    def sign(
        self,
        *,
        serial: str,
        pin: str,
        purpose: str,
        message: bytes,
        intent: Any,
        caller: str = "local",
        document: bytes | None = None,
    ) -> bytes:
        """A DER signature by card ``serial`` over ``message`` if it does what ``intent`` says.
        Purpose ``document`` (#21): ``message`` is the CMS signed attributes of a PAdES
        signature over ``document`` (the prepared PDF), checked by signing.documents.

        Raises RefusedError, WrongPinError, CardLockedError, CardRevokedError, RateLimitedError,
        or SigningError for anything unexpected. Every request, signed or refused for any
        reason, is written to the audit log (never the PIN) before this returns or raises."""
        entry: dict[str, Any] = {"card": _short(serial), "caller": _short(caller), "purpose": _short(purpose)}
        reserved: tuple[str, _Remembered] | None = None
        try:
            if not isinstance(message, bytes):
                raise RefusedError("the message must be bytes")
            digest = sha256(message)
            entry.update(digest=digest.hex(), **describe(message, purpose))
            entry["intent"] = _audited_intent(intent)
            parsed = Intent.from_dict(intent)
            if not isinstance(serial, str):
                raise CardNotFoundError("no such card")
            record = self._can_sign(serial)
            entry.update(user=record.username, member=record.member_id)
            self._rate_limit(serial)
            identity = Identity(record.msp_id or "", (record.certificate_pem or "").encode())
            if purpose == "document":
                entry["document_sha256"] = sha256(document).hex() if isinstance(document, bytes) else ""
                if parsed.function != SIGN_DOCUMENT:
                    raise RefusedError(f"a document is signed for {SIGN_DOCUMENT}, not {parsed.function}")
                terms = check_document(message, document, parsed.request, identity_member(identity))
                signature = self._sign_on_card(record, digest, pin)
                entry.update(result="signed", kind=_short(terms["kind"]))
                self._audit(entry)
                metrics.signed(purpose)
                return signature
            if purpose == "proposal":
                proposal = check_proposal(message, parsed, identity, self.deployment, self._clock())
            elif purpose == "transaction":
                reserved = self._reserve(message, serial, parsed)
                proposal = reserved[1].proposal
                check_transaction(message, parsed, identity, proposal)
            else:
                raise RefusedError(f"the gateway signs proposals and transactions, not {_short(purpose)!r}")
            signature = self._sign_on_card(record, digest, pin)
            if purpose == "proposal":
                self._remember(serial, parsed, proposal)
            entry.update(result="signed", tx_id=proposal.tx_id)
            self._audit(entry)
            metrics.signed(purpose)
            return signature
        except Exception as error:
            if reserved is not None:
                self._give_back(*reserved)  # the card refused: the proposal may still get its envelope
            if entry.get("result") == "signed":
                raise  # the audit line of a signature could not be written: the signature is dropped
            if isinstance(error, _SecretInIntent):
                entry["intent"] = error.summary
            if isinstance(error, SigningError):
                metrics.refused(error.code)
                entry.update(result="refused", code=error.code, reason=str(error))
                self._audit(entry)
                raise
            metrics.refused("internal_error")
            entry.update(result="refused", code="internal_error", reason=f"unexpected {type(error).__name__}")
            self._audit(entry)
            if _disk_full(error):
                raise AuditLogError("the signing gateway's disk is full; nothing was signed") from error
            raise SigningError("the signing gateway failed on this request; nothing was signed") from error

    def refuse(self, entry: dict[str, Any]) -> None:
        """Audit a request refused before it reached :meth:`sign` (the gateway's transport:
        unauthenticated, malformed, oversized). ``entry`` holds code and reason."""
        metrics.refused(entry.get("code"))
        self._audit({**entry, "result": "refused"})

    def record(self, entry: dict[str, Any]) -> None:
        """Audit a request that is not a signature (an identity served over the gateway)."""
        self._audit(entry)

    def _audit(self, entry: dict[str, Any]) -> None:
        try:
            self._append(entry)
        except (ValueError, TypeError):
            # an entry the log cannot hold (a secret-named key, a value JSON cannot encode):
            # keep the fact and the outcome, never the content
            safe: dict[str, Any] = {
                key: entry[key] for key in ("card", "purpose", "result", "code", "tx_id") if key in entry
            }
            self._append({**safe, "note": "entry not recordable as given"})

    def _append(self, entry: dict[str, Any]) -> None:
        """One audit line; a log that cannot be written (a full disk) refuses the request as
        audit_failed (the web answers 503, try again), never as an unexpected failure."""
        try:
            self.audit.append(entry)
        except OSError as error:
            raise AuditLogError(f"the audit log could not be written ({error.strerror})") from None

    def _reserve(self, message: bytes, serial: str, intent: Intent) -> tuple[str, _Remembered]:
        """Take the remembered proposal of this envelope out of memory, atomically, so that of
        concurrent requests for one proposal only one can go on to be signed."""
        tx_id = _peek_tx_id(message)
        with self._lock:
            remembered = self._proposals.get(tx_id)
            if remembered is None or remembered.serial != serial or remembered.intent != intent:
                raise RefusedError("the gateway signed no proposal for this transaction and intent")
            del self._proposals[tx_id]
        if time.monotonic() - remembered.stamp > PROPOSAL_TTL_SECONDS:
            raise RefusedError("the proposal for this transaction was signed too long ago")
        return tx_id, remembered

    def _give_back(self, tx_id: str, remembered: _Remembered) -> None:
        if time.monotonic() - remembered.stamp > PROPOSAL_TTL_SECONDS:
            return
        with self._lock:
            self._proposals.setdefault(tx_id, remembered)

    def prove_pin(self, *, serial: str, pin: str, caller: str = "local") -> None:
        """Prove that ``pin`` opens card ``serial`` and that the card may sign, signing nothing
        of the caller's (a replayed request shows its PIN again). A wrong PIN counts towards
        locking the card, as for a signature. Raises WrongPinError, CardLockedError,
        CardRevokedError, CardNotFoundError or RateLimitedError; audited like a signature."""
        entry: dict[str, Any] = {"card": _short(serial), "caller": _short(caller), "purpose": "pin"}
        try:
            if not isinstance(serial, str):
                raise CardNotFoundError("no such card")
            record = self._can_sign(serial)
            entry.update(user=record.username, member=record.member_id)
            self._rate_limit(serial)
            self._sign_on_card(record, bytes(32), pin)
        except SigningError as error:
            metrics.refused(error.code)
            entry.update(result="refused", code=error.code, reason=str(error))
            self._audit(entry)
            raise
        except Exception as error:
            metrics.refused("internal_error")
            entry.update(result="refused", code="internal_error", reason=f"unexpected {type(error).__name__}")
            self._audit(entry)
            if _disk_full(error):
                raise AuditLogError("the signing gateway's disk is full") from error
            raise SigningError("the signing gateway failed on this request") from error
        entry["result"] = "proved"
        self._audit(entry)
        metrics.signed("pin")

    def check_pin(self, record: CardRecord, pin: str) -> None:
        """Prove the PIN on the card (a signature over zeros), counting a wrong one."""
        self._can_sign(record.serial)
        self._sign_on_card(record, bytes(32), pin)

    def change_pin(self, record: CardRecord, old_pin: str, new_pin: str) -> None:
        """The card takes ``new_pin`` from now on, if ``old_pin`` is right; a wrong one counts as
        a wrong PIN (and locks the card at the limit) as for a signature. The card checks the
        new PIN's form (ValueError); rules on which PINs to allow belong to the caller.

        Raises WrongPinError, CardLockedError, CardRevokedError, CardNotFoundError, ValueError."""
        self._can_sign(record.serial)
        card = self.card_for(record)
        self._with_pin(record, old_pin, lambda: card.change_pin(old_pin, new_pin))

    def _sign_on_card(self, record: CardRecord, digest: bytes, pin: str) -> bytes:
        card = self.card_for(record)
        if isinstance(pin, str) and pin:
            # a session kept logged in by the card (PKCS#11, issue #22) for this very PIN: the
            # PIN is right, so no try is reserved; any other PIN takes the counted path below
            with self._card_lock(record.serial):
                kept = card.sign_kept(digest, pin)
            if kept is not None:
                if record.wrong_pins:
                    self.registry.right_pin(record.serial)
                return kept
        signature: bytes = self._with_pin(record, pin, lambda: card.sign_digest(digest, pin))
        return signature

    def _with_pin(self, record: CardRecord, pin: str, operation: Callable[[], T]) -> T:
        """``operation`` (which checks ``pin`` on the card) with the try counted in the registry."""
        if not isinstance(pin, str) or not pin:
            raise WrongPinError("a PIN is required", None)
        # One PIN check at a time per card, as on a real card: an in-flight right PIN must not
        # count as a try against a concurrent one. The registry's atomic reservation still holds
        # the limit across processes.
        with self._card_lock(record.serial):
            try:
                self.registry.reserve_try(record.serial)
            except CardLockedError:
                self._forget(record.serial)
                raise
            try:
                result = operation()
            except WrongPinError:
                left = self.registry.tries_left(record.serial)
                if left == 0:
                    self._forget(record.serial)
                raise WrongPinError(f"wrong PIN for card {record.serial}; {left} tries left", left) from None
            except BaseException:
                self.registry.give_back_try(record.serial)
                raise
            self.registry.right_pin(record.serial)
        return result

    def _can_sign(self, serial: str) -> CardRecord:
        """The card's record if it may sign; a locked or revoked card's kept session (a PKCS#11
        token left logged in, issue #22) is closed before the refusal."""
        try:
            return self.registry.check_can_sign(serial)
        except (CardLockedError, CardRevokedError):
            self._forget(serial)
            raise

    def _forget(self, serial: str) -> None:
        try:
            record = self.registry.get(serial)
            self.card_for(record).forget_session()
        except SigningError:
            pass  # no such card or backend here: no session either

    def _card_lock(self, serial: str) -> threading.Lock:
        with self._lock:
            return self._card_locks.setdefault(serial, threading.Lock())

    def _rate_limit(self, serial: str) -> None:
        with self._lock:
            bucket = self._buckets.setdefault(serial, _Bucket(self._rate, self._burst))
            if not bucket.take():
                raise RateLimitedError(f"card {serial} is signing too fast; try again shortly")

    def _remember(self, serial: str, intent: Intent, proposal: DecodedProposal) -> None:
        with self._lock:
            self._proposals[proposal.tx_id] = _Remembered(serial, intent, proposal, time.monotonic())
            while len(self._proposals) > PROPOSAL_MEMORY:
                self._proposals.popitem(last=False)


@dataclasses.dataclass(frozen=True)
class _Remembered:
    """A proposal the gateway signed, waiting for its one envelope."""

    serial: str
    intent: Intent
    proposal: DecodedProposal
    stamp: float


def _short(value: Any, limit: int = 200) -> str:
    return str(value)[:limit]


def _audited_intent(intent: Any) -> Any:
    """The intent as the audit log records it; RefusedError (recording only the field names and
    the request's hash) when it carries a field named like a secret, before any card is touched."""
    paths = secret_paths(intent, "intent")
    if not paths:
        return intent
    function = intent.get("function") if isinstance(intent, dict) else None
    raise _SecretInIntent(
        "the intent carries a field named like a secret "
        f"({', '.join(paths[:5])}); PINs and passwords never go in an intent",
        {"function": _short(function), "secret_fields": paths[:20], "sha256": _digest_of(intent)},
    )


class _SecretInIntent(RefusedError):
    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = summary


def _digest_of(value: Any) -> str:
    try:
        return sha256(canonical_json(value).encode()).hex()
    except (TypeError, ValueError):
        return ""


def describe(message: bytes, purpose: str) -> dict[str, str]:
    """Channel, chaincode, tx id and timestamp of a proposal or envelope payload, as far as
    they can be read (for the audit line of a request refused or not)."""
    from fabric_protos.common import common_pb2
    from fabric_protos.peer import proposal_pb2

    try:
        if purpose == "proposal":
            header = common_pb2.Header.FromString(proposal_pb2.Proposal.FromString(message).header)
        elif purpose == "transaction":
            header = common_pb2.Payload.FromString(message).header
        else:
            return {}
        channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
        extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
        return {
            "channel": _short(channel_header.channel_id),
            "chaincode": _short(extension.chaincode_id.name),
            "tx_id": _short(channel_header.tx_id),
            "timestamp": channel_header.timestamp.ToDatetime(tzinfo=dt.UTC).isoformat(),
        }
    except Exception:  # noqa: BLE001 - a message the gateway cannot read is described by its digest
        return {}


def _peek_tx_id(message: bytes) -> str:
    from fabric_protos.common import common_pb2

    try:
        payload = common_pb2.Payload.FromString(message)
        return str(common_pb2.ChannelHeader.FromString(payload.header.channel_header).tx_id)
    except Exception as error:
        raise RefusedError("not a transaction the gateway can read") from error


def _disk_full(error: BaseException) -> bool:
    """A full disk under ``error`` (the card registry's SQLite, a token file): ENOSPC, EDQUOT or
    SQLITE_FULL; refused as audit_failed (503, try again), not as an unexpected failure (502)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(current, "sqlite_errorcode", None) == 13 or "database or disk is full" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
