"""The signing service: holds the cards, checks each message against its intent, keeps the
audit log, counts wrong PINs and rate-limits each card. The gateway process serves it over
HTTP; a process may also use it in-process (the CLI on one machine)."""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

from goldticket.messages import DecodedProposal, Identity, sha256

from .audit import AuditLog
from .cards.interfaces import CardFactory
from .errors import CardNotFoundError, RefusedError, SigningError, WrongPinError
from .intents import Intent, check_proposal, check_transaction
from .registry import CardRecord, CardRegistry

PURPOSES = ("proposal", "transaction")
PROPOSAL_MEMORY = 10_000
PROPOSAL_TTL_SECONDS = 600


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
    ) -> None:
        self.registry = registry
        self.factories = factories
        self.audit = audit
        self._rate, self._burst = rate_per_second, burst
        self._buckets: dict[str, _Bucket] = {}
        self._proposals: collections.OrderedDict[str, tuple[str, Intent, DecodedProposal, float]] = (
            collections.OrderedDict()
        )
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
        self, *, serial: str, pin: str, purpose: str, message: bytes, intent: Any, caller: str = "local"
    ) -> bytes:
        """A DER signature by card ``serial`` over ``message`` if it does what ``intent`` says.

        Raises RefusedError, WrongPinError, CardLockedError, CardRevokedError, RateLimitedError.
        Every request, signed or refused, is written to the audit log (never the PIN)."""
        digest = sha256(message)
        entry: dict[str, Any] = {"card": serial, "caller": caller, "purpose": purpose, "digest": digest.hex()}
        try:
            parsed = Intent.from_dict(intent)
            entry["intent"] = parsed.to_dict()
            record = self.registry.check_can_sign(serial)
            entry.update(user=record.username, member=record.member_id)
            self._rate_limit(serial)
            identity = Identity(record.msp_id or "", (record.certificate_pem or "").encode())
            proposal = self._check(purpose, message, parsed, identity, serial)
            signature = self._sign_on_card(record, digest, pin)
        except SigningError as error:
            entry.update(result="refused", code=error.code, reason=str(error))
            self.audit.append(entry)
            raise
        if proposal is not None:
            if purpose == "proposal":
                self._remember(serial, parsed, proposal)
            else:
                with self._lock:  # one envelope per signed proposal
                    self._proposals.pop(proposal.tx_id, None)
        entry.update(result="signed", tx_id=proposal.tx_id if proposal is not None else None)
        self.audit.append(entry)
        return signature

    def _check(
        self, purpose: str, message: bytes, intent: Intent, identity: Identity, serial: str
    ) -> DecodedProposal | None:
        if purpose == "proposal":
            return check_proposal(message, intent, identity)
        if purpose == "transaction":
            tx_id = _peek_tx_id(message)
            with self._lock:
                remembered = self._proposals.get(tx_id)
            if remembered is None or remembered[0] != serial or remembered[1] != intent:
                raise RefusedError("the gateway signed no proposal for this transaction and intent")
            if time.monotonic() - remembered[3] > PROPOSAL_TTL_SECONDS:
                raise RefusedError("the proposal for this transaction was signed too long ago")
            check_transaction(message, intent, identity, remembered[2])
            return remembered[2]
        raise RefusedError(f"the gateway signs proposals and transactions, not {purpose!r}")

    def check_pin(self, record: CardRecord, pin: str) -> None:
        """Prove the PIN on the card (a signature over zeros), counting a wrong one."""
        self.registry.check_can_sign(record.serial)
        self._sign_on_card(record, bytes(32), pin)

    def _sign_on_card(self, record: CardRecord, digest: bytes, pin: str) -> bytes:
        if not isinstance(pin, str) or not pin:
            raise WrongPinError("a PIN is required", None)
        card = self.card_for(record)
        # One PIN check at a time per card, as on a real card: an in-flight right PIN must not
        # count as a try against a concurrent one. The registry's atomic reservation still holds
        # the limit across processes.
        with self._card_lock(record.serial):
            self.registry.reserve_try(record.serial)
            try:
                signature: bytes = card.sign_digest(digest, pin)
            except WrongPinError:
                left = self.registry.tries_left(record.serial)
                raise WrongPinError(f"wrong PIN for card {record.serial}; {left} tries left", left) from None
            except BaseException:
                self.registry.give_back_try(record.serial)
                raise
            self.registry.right_pin(record.serial)
        return signature

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
            self._proposals[proposal.tx_id] = (serial, intent, proposal, time.monotonic())
            while len(self._proposals) > PROPOSAL_MEMORY:
                self._proposals.popitem(last=False)


def _peek_tx_id(message: bytes) -> str:
    from fabric_protos.common import common_pb2

    try:
        payload = common_pb2.Payload.FromString(message)
        return str(common_pb2.ChannelHeader.FromString(payload.header.channel_header).tx_id)
    except Exception as error:
        raise RefusedError("not a transaction the gateway can read") from error
