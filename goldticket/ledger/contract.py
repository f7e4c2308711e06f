"""The client side of a transaction, after fabric-gateway's Contract: build the proposal,
have the signer sign it, endorse, have the signer sign the envelope, submit, await commit."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from goldticket import messages as m

from .errors import CommitError, MVCCConflictError
from .interfaces import Ledger


class SignerLike(Protocol):
    """The Signer interface, structurally: the ledger does not import signing."""

    @property
    def identity(self) -> m.Identity: ...

    def sign(self, message: bytes, purpose: str = ...) -> bytes: ...


# The transient map's entry holding a request's private fields (JSON): the chaincode merges it
# into the request; the proposal carries it to the endorsers and no block does (#19).
PRIVATE_REQUEST = "request"
# Each function's request fields that are private between the parties: a financing's rate
# (from it, the amount, dates and the bank's published fee, the interest and proceeds follow),
# with the random salt of the terms the collection keeps (the channel has their hash).
# A financing approval prepared for review (#20) states its rate beside the prepared request, with
# the intent's salt: both private too, in the preparation and in the reviewer's approval.
PRIVATE_FIELDS: dict[str, tuple[str, ...]] = {
    "ApproveFinancing": ("annual_rate_bp", "terms_salt"),
    "PrepareOperation": ("annual_rate_bp", "terms_salt", "intent_salt"),
    "ApproveOperation": ("annual_rate_bp", "terms_salt", "intent_salt"),
}


def split_request(
    function: str, request: dict[str, Any], private_fields: tuple[str, ...] | None = None
) -> tuple[list[str], dict[str, bytes] | None]:
    """The proposal's argument (the public fields, JSON) and transient map (the private ones:
    ``private_fields``, by default the function's PRIVATE_FIELDS)."""
    if private_fields is None:
        private_fields = PRIVATE_FIELDS.get(function, ())
    public = {k: v for k, v in request.items() if k not in private_fields}
    private = {k: v for k, v in request.items() if k in private_fields}
    args = [json.dumps(public, sort_keys=True, ensure_ascii=False)]
    if not private:
        return args, None
    return args, {PRIVATE_REQUEST: json.dumps(private, sort_keys=True, ensure_ascii=False).encode("utf-8")}


class Contract:
    def __init__(self, ledger: Ledger, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.ledger = ledger
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def _signed_proposal(
        self,
        signer: SignerLike,
        function: str,
        request: dict[str, Any],
        private: tuple[str, ...] | None = None,
    ) -> Any:
        args, transient = split_request(function, request, private)
        proposal = m.build_proposal(
            channel_id=self.ledger.channel_id,
            chaincode=self.ledger.chaincode,
            function=function,
            args=args,
            creator=signer.identity,
            timestamp=self._clock(),
            transient=transient,
        )
        return m.signed_proposal(proposal.bytes, signer.sign(proposal.bytes, purpose="proposal"))

    def evaluate(
        self, signer: SignerLike, function: str, request: dict[str, Any], organizations: tuple[str, ...] = ()
    ) -> Any:
        """Run a query (on the peers of ``organizations`` only, when given); raises EndorseError
        (its chaincode_message says why)."""
        return orjson.loads(
            self.ledger.evaluate(self._signed_proposal(signer, function, request), organizations)
        )

    def rehearse(
        self,
        creator: m.Identity,
        function: str,
        request: dict[str, Any],
        private: tuple[str, ...] | None = None,
    ) -> bool:
        """Run the transaction ``creator`` would sign as an unsigned proposal (the chaincode's
        rules, no endorsement, no commit): raises EndorseError for a refusal; False where the
        ledger cannot rehearse."""
        args, transient = split_request(function, request, private)
        proposal = m.build_proposal(
            channel_id=self.ledger.channel_id,
            chaincode=self.ledger.chaincode,
            function=function,
            args=args,
            creator=creator,
            timestamp=self._clock(),
            transient=transient,
        )
        return self.ledger.rehearse(proposal.bytes) is not None

    def submit(
        self,
        signer: SignerLike,
        function: str,
        request: dict[str, Any],
        private: tuple[str, ...] | None = None,
        organizations: tuple[str, ...] = (),
    ) -> tuple[Any, str, int]:
        """Endorse, sign, submit and wait for commit. Returns (result, tx_id, block number).
        ``private`` names the request's fields that travel in the transient map, not the block;
        ``organizations``, when given, the organisations whose peers endorse (Ledger.endorse).

        Raises EndorseError, SubmitError, CommitStatusError, or CommitError
        (MVCCConflictError when another transaction changed what this one read: a key,
        MVCC_READ_CONFLICT, or a key range, PHANTOM_READ_CONFLICT).
        """
        prepared = self.ledger.endorse(
            self._signed_proposal(signer, function, request, private), organizations
        )
        envelope = m.signed_envelope(prepared.bytes, signer.sign(prepared.bytes, purpose="transaction"))
        self.ledger.submit(envelope)
        status = self.ledger.commit_status(prepared.tx_id, signer)
        if status.validation_code in ("MVCC_READ_CONFLICT", "PHANTOM_READ_CONFLICT"):
            raise MVCCConflictError(
                f"transaction {prepared.tx_id} conflicted with a concurrent change; nothing was written",
                prepared.tx_id,
                status.validation_code,
            )
        if not status.ok:
            raise CommitError(
                f"transaction {prepared.tx_id} was invalidated: {status.validation_code}",
                prepared.tx_id,
                status.validation_code,
            )
        return orjson.loads(prepared.result), prepared.tx_id, status.block_number
