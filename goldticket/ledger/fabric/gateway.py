"""FabricLedger: the Ledger port over Fabric's Gateway gRPC service, with offline signing.

The caller builds and signs the proposal and the envelope (any Signer: software keys or cards
through the signing gateway); this client only carries signed bytes. It holds every
organisation's gateway peer and moves on when one is unreachable, which the official clients
do not:

- evaluate and endorse go to the next gateway (a proposal has no effect until submitted);
- a submit whose outcome is unknown (the gateway went away mid-call) is resolved by asking
  another gateway for the transaction's commit status; if it has not committed, the same
  signed envelope is submitted again through that gateway (never a new endorsement), so a
  write commits at most once: Fabric marks a second copy of a transaction id
  DUPLICATE_TXID and the commit status reports the first;
- commit status is asked again of another gateway.

Errors come back by phase (EndorseError, SubmitError, CommitStatusError) carrying the
transaction id; the caller (``ledger.Contract``) turns an invalid commit into CommitError.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.gateway import gateway_pb2, gateway_pb2_grpc
from fabric_protos.peer import events_pb2_grpc, proposal_pb2, transaction_pb2

from goldticket import domain as d
from goldticket import messages as m

from ..contract import Contract, SignerLike
from ..errors import CommitStatusError, EndorseError, LedgerError, SubmitError
from ..interfaces import CommitStatus, Ledger
from .profile import ConnectionProfile, PeerEndpoint
from .status import GatewayFailure, failure

T = TypeVar("T")
log = logging.getLogger("goldticket.ledger.fabric")
# Transactions whose envelope is kept for a second submit, at most (each until its commit status).
MAX_AWAITED = 10_000
# Seconds before endorsing the same proposal again when its endorsers disagreed (a peer one
# block behind another); after the last, the disagreement is the caller's error.
DISAGREEMENT_WAITS = (0.2, 0.5, 1.0)
# The same when no gateway knew a set of reachable endorsers satisfying the policy: a peer just
# started again learns of the others by gossip within seconds (alive messages every 2 s).
NO_ENDORSERS_WAITS = (0.5, 1.0, 2.0, 4.0)
# How long a chaincode refusal waits for the peers that gave it to reach the newest block seen
# before the proposal goes to the chaincode again (whose answer then stands), and how often their
# height is asked meanwhile; a peer still behind after it is a ledger error (503, "try again"),
# never the refusal of a stale state.
CATCH_UP_WAIT = 6.0
CATCH_UP_POLL = 0.1
# How long a private read waits for the values to reach a member's peer that has their hash.
PRIVATE_DATA_WAIT = 10.0
# The deadline of a peer's height asked after a refusal (an unreachable peer counts as unknown).
HEIGHT_DEADLINE = 2.0
# The contract's query for each kind ``record`` reads, and the query's key field.
RECORD_QUERIES = {
    "member": ("GetMember", "id"),
    "ticket": ("GetTicket", "ticket_id"),
    "offer": ("GetOffer", "offer_id"),
    "application": ("GetApplication", "application_id"),
    # an approved application's discount terms from its collection (#19): what GetFinancingTerms
    # answers on the gateway's peer (the operator's, a member of every terms collection)
    "terms": ("GetFinancingTerms", "application_id"),
}
CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.max_receive_message_length", 100 * 1024 * 1024),
    ("grpc.max_send_message_length", 100 * 1024 * 1024),
    # Reconnect quickly to a peer that comes back after a restart.
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2_000),
)


@dataclasses.dataclass(frozen=True)
class Deadlines:
    """Per-call deadlines in seconds (those of fabric-samples' gateway applications)."""

    evaluate: float = 5.0
    endorse: float = 15.0
    submit: float = 5.0
    commit_status: float = 60.0
    # How long a gateway taken over after a failed submit waits for the transaction to show up
    # before it submits the same envelope again (a few orderer batches).
    resolve: float = 3.0
    deliver: float = 30.0
    # How long a submitted transaction may stay uncommitted before the same signed envelope is
    # submitted again: a raft leader killed after it acknowledged a transaction but before the
    # transaction reached a block loses it, and nothing else would ever commit it.
    resubmit: float = 5.0


class _Peer:
    def __init__(self, endpoint: PeerEndpoint) -> None:
        self.endpoint = endpoint
        credentials = grpc.ssl_channel_credentials(root_certificates=endpoint.tls_ca_pem)
        self.channel = grpc.secure_channel(endpoint.address, credentials, options=list(CHANNEL_OPTIONS))
        self.gateway = gateway_pb2_grpc.GatewayStub(self.channel)
        self.deliver = events_pb2_grpc.DeliverStub(self.channel)

    def close(self) -> None:
        self.channel.close()


class FabricLedger(Ledger):
    kind = "fabric"

    def __init__(
        self, profile: ConnectionProfile, reader: SignerLike, deadlines: Deadlines | None = None
    ) -> None:
        """``reader`` signs commit-status and Deliver requests (any channel Reader will do)."""
        self.channel_id = profile.channel
        self.chaincode = profile.chaincode
        self.profile = profile
        self._reader = reader
        self._deadlines = deadlines or Deadlines()
        self._peers = [_Peer(endpoint) for endpoint in profile.peers]
        self._current = 0
        self._lock = threading.Lock()
        self._submitted: dict[str, gateway_pb2.SubmitRequest] = {}  # until their commit status
        # The height this client has seen committed (its commits' blocks + 1): a peer below it
        # answers from a state older than what this client already acknowledged.
        self._seen_height = 0
        # the channel's organisations and the config block they were read from
        self._organizations: tuple[int, tuple[str, ...]] | None = None

    # ----------------------------------------------------------------- calls
    def _order(self) -> list[_Peer]:
        with self._lock:
            start = self._current
        return self._peers[start:] + self._peers[:start]

    def _prefer(self, peer: _Peer) -> None:
        with self._lock:
            self._current = self._peers.index(peer)

    def _each_gateway(
        self,
        call: Callable[[_Peer], T],
        on_failure: Callable[[GatewayFailure], Exception],
        *,
        read: bool = False,
        may_move: Callable[[], bool] = lambda: True,
        among: tuple[str, ...] = (),
        again: bool = False,
    ) -> T:
        """``call`` on the current gateway, then the next ones while they are unreachable; with
        ``read`` (a chaincode call) also while the chaincode answers not_found: that gateway's
        peer may not have committed the block another has (it was just restarted, or is a
        block behind), so the record is asked of the other organisations' peers before the
        refusal stands (#19 (a)); a record that is absent is absent on every peer. Any other
        refusal stands only once the peers that gave it have committed every block this client
        saw committed and every block another reachable peer holds (:meth:`_caught_up`): a
        rule refused on a state one block old ("no current registration" just after the
        registration committed) is the same proposal run again once they have. A not_found
        from every gateway likewise stands only if the peers that gave it held the newest
        block: else they are waited for and every gateway is asked once more (the record a
        client just saw committed, asked of a peer whose orderer was killed: CI's raft leader
        kill drill, 404 for an offer created a second before)."""
        last: GatewayFailure | None = None
        absent: list[_Peer] = []  # the peers that answered not_found
        # a gateway that knew no endorsers: that, not a later gateway's being unreachable, is
        # what the caller is told (endorse waits for gossip on it and asks again)
        planless: GatewayFailure | None = None
        for peer in self._order():
            if among and peer.endpoint.msp_id not in among:
                continue  # a gateway of another organisation would see the proposal's private data
            try:
                result = call(peer)
            except grpc.RpcError as error:
                last = failure(error)
                planless = last if last.no_endorsers else planless
                if read and last.not_found:
                    absent.extend(p for p in self._refusers(peer, last) if p not in absent)
                if last.retryable or (read and last.not_found):
                    continue
                if read and last.no_endorsers and may_move() and not among:
                    # this gateway's peer knows no endorsers that satisfy the policy (it was just
                    # started again, or lost one): another organisation's gateway is asked
                    log.info("%s found no endorsers: %s", peer.endpoint.name, last.describe()[:300])
                    continue
                if not read or last.chaincode_message() is None or last.endorsers_disagree:
                    raise on_failure(last) from error
                self._await_refusers(peer, last)
                try:
                    result = call(peer)  # the refusing peers hold the newest block: their answer now
                except grpc.RpcError as again:
                    last = failure(again)
                    if last.retryable or last.not_found:
                        continue
                    raise on_failure(last) from again
            self._prefer(peer)
            return result
        if last is None:  # no gateway of the organisations named is in the connection profile
            raise LedgerError(f"the connection profile names no peer of {', '.join(among)}")
        if absent and not again and self._await_peers(absent):
            return self._each_gateway(call, on_failure, read=read, may_move=may_move, among=among, again=True)
        raise on_failure(planless or last)

    def _refusers(self, gateway: _Peer, refusal: GatewayFailure) -> list[_Peer]:
        """The peers that refused: the details' organisations', else ``gateway``'s own."""
        refusing_msps = {detail[0] for detail in refusal.details if detail[0]}
        return [p for p in self._peers if p.endpoint.msp_id in refusing_msps] or [gateway]

    def _await_refusers(self, gateway: _Peer, refusal: GatewayFailure) -> None:
        """Wait until the peers that refused (the details' organisations, else ``gateway``'s
        own peer) hold the newest block seen: this client's commits' and every reachable
        peer's height (a peer that does not answer counts as holding it). Raises EndorseError
        (no chaincode message: a ledger error, "try again") when one stays behind for
        ``CATCH_UP_WAIT`` seconds."""
        self._await_peers(self._refusers(gateway, refusal))

    def _await_peers(self, refusers: list[_Peer]) -> bool:
        """Wait until ``refusers`` hold the newest block seen (as :meth:`_await_refusers`);
        whether any was behind."""
        heights = {p.endpoint.name: self._peer_height(p) for p in self._peers}
        with self._lock:
            newest = self._seen_height
        newest = max([newest, *(h for h in heights.values() if h is not None)])
        behind = [p for p in refusers if (heights[p.endpoint.name] or newest) < newest]
        waited = bool(behind)
        if behind:
            log.info(
                "a refusal came from %s below height %d", ", ".join(p.endpoint.name for p in behind), newest
            )
        deadline = time.monotonic() + CATCH_UP_WAIT
        while behind and time.monotonic() < deadline:
            time.sleep(CATCH_UP_POLL)
            behind = [p for p in behind if (self._peer_height(p) or newest) < newest]
        if behind:
            names = ", ".join(p.endpoint.name for p in behind)
            raise _Behind(f"{names} stayed below block {newest} for {CATCH_UP_WAIT:.0f} s; try again")
        return waited

    def _peer_height(self, peer: _Peer) -> int | None:
        """The height of ``peer``'s ledger (its newest block + 1), None when it does not answer."""
        payload = m.deliver_payload(self.channel_id, self._reader.identity, 0, newest=True)
        envelope = common_pb2.Envelope(
            payload=payload, signature=self._reader.sign(payload, purpose="deliver")
        )
        try:
            for response in peer.deliver.Deliver(iter([envelope]), timeout=HEIGHT_DEADLINE):
                if response.WhichOneof("Type") == "block":
                    return int(response.block.header.number) + 1
                return None
        except grpc.RpcError:
            return None
        return None

    # ------------------------------------------------------------ the port
    def evaluate(self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()) -> bytes:
        tx_id = _tx_id_of_proposal(proposal)
        request = gateway_pb2.EvaluateRequest(
            transaction_id=tx_id,
            channel_id=self.channel_id,
            proposed_transaction=proposal,
            target_organizations=list(organizations),
        )

        def call(peer: _Peer) -> bytes:
            response = peer.gateway.Evaluate(request, timeout=self._deadlines.evaluate)
            return bytes(response.result.payload)

        return self._each_gateway(call, lambda f: _endorse_error("evaluate", f, tx_id), read=True)

    def endorse(
        self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()
    ) -> m.PreparedTransaction:
        """With ``organizations`` (a proposal with private data: its collection's members and
        the fewest others a MAJORITY needs, services.platform), the Gateway endorses on exactly
        their peers, and only their own gateways are asked: Fabric's Gateway refuses to plan a
        private write beyond the collection's members ("retry specifying trusted endorsing
        organizations"), and a gateway peer sees the transient map even when not endorsing."""
        tx_id = _tx_id_of_proposal(proposal)
        request = gateway_pb2.EndorseRequest(
            transaction_id=tx_id,
            channel_id=self.channel_id,
            proposed_transaction=proposal,
            endorsing_organizations=list(organizations),
        )

        def call(peer: _Peer) -> common_pb2.Envelope:
            return peer.gateway.Endorse(request, timeout=self._deadlines.endorse).prepared_transaction

        def on_failure(found: GatewayFailure) -> Exception:
            # a named organisation's peer unreachable (stopped, restarting): no other may stand
            # in for it, so the same proposal waits for it as for a gateway without endorsers
            if found.endorsers_disagree or found.no_endorsers or (organizations and found.retryable):
                return _Disagreed(found)
            return _endorse_error("endorse", found, tx_id)

        envelope = None
        waits = {"disagreed": iter(DISAGREEMENT_WAITS), "no endorsers": iter(NO_ENDORSERS_WAITS)}
        while envelope is None:
            try:
                envelope = self._each_gateway(
                    call,
                    on_failure,
                    read=True,
                    # a proposal with private data (its transient map) goes to no other
                    # organisation's gateway for this: that peer would see the private values
                    may_move=lambda: not _has_transient(proposal),
                    among=organizations,
                )
            except _Disagreed as disagreed:
                # a peer had not committed the block another had, or no gateway knew endorsers
                # enough (gossip still learning of a peer started again): the same signed
                # proposal is endorsed again a moment later (nothing was written or signed again)
                kind = "disagreed" if disagreed.failure.endorsers_disagree else "no endorsers"
                wait = next(waits[kind], None)
                if wait is None:
                    raise _endorse_error("endorse", disagreed.failure, tx_id) from None
                log.info("endorsement of %s: %s; endorsing again in %.2f s", tx_id, kind, wait)
                time.sleep(wait)
        assert envelope is not None
        payload = bytes(envelope.payload)
        try:
            result = m.decode_transaction(payload).response_payload
        except m.MessageError as error:
            raise EndorseError(
                f"the gateway returned a transaction that does not decode: {error}", tx_id
            ) from error
        return m.PreparedTransaction(tx_id, payload, result)

    def submit(self, envelope: common_pb2.Envelope) -> None:
        tx_id = _tx_id_of_envelope(envelope)
        request = gateway_pb2.SubmitRequest(
            transaction_id=tx_id, channel_id=self.channel_id, prepared_transaction=envelope
        )
        self._send(request)
        with self._lock:
            if len(self._submitted) < MAX_AWAITED:
                self._submitted[tx_id] = request

    def _send(self, request: gateway_pb2.SubmitRequest) -> None:
        tx_id = request.transaction_id
        peers = self._order()
        for index, peer in enumerate(peers):
            try:
                peer.gateway.Submit(request, timeout=self._deadlines.submit)
            except grpc.RpcError as error:
                found = failure(error)
                if found.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise SubmitError(f"submit refused: {found.describe()}", tx_id) from error
                # The outcome is unknown: ask the next gateway whether it committed.
                for other in peers[index + 1 :]:
                    try:
                        self._status(other, tx_id, self._deadlines.resolve)
                    except grpc.RpcError as status_error:
                        if failure(status_error).code == grpc.StatusCode.DEADLINE_EXCEEDED:
                            break  # reachable, not committed: submit the same envelope there
                        continue
                    self._prefer(other)
                    return
                continue
            self._prefer(peer)
            return
        raise SubmitError(f"no gateway accepted transaction {tx_id}: every peer is unreachable", tx_id)

    def _status(self, peer: _Peer, tx_id: str, timeout: float) -> gateway_pb2.CommitStatusResponse:
        request = m.commit_status_request(tx_id, self.channel_id, self._reader.identity)
        signed = m.signed_commit_status_request(request, self._reader.sign(request, purpose="commit_status"))
        return peer.gateway.CommitStatus(signed, timeout=timeout)

    def commit_status(
        self, tx_id: str, sign: object | None = None, *, wait: float | None = None
    ) -> CommitStatus:
        """Wait for ``tx_id`` to commit (``sign`` is unused: the reader signs the request).
        A transaction this client submitted that has not committed after ``resubmit`` seconds
        is submitted again, the same signed envelope (never a new endorsement): if the first
        copy was lost with a raft leader it commits now, and if both reach blocks Fabric marks
        the second DUPLICATE_TXID while the status reports the first."""
        deadline = time.monotonic() + (self._deadlines.commit_status if wait is None else wait)
        with self._lock:
            request = self._submitted.get(tx_id)
        try:
            while True:
                remaining = deadline - time.monotonic()
                wait = min(self._deadlines.resubmit, remaining) if request is not None else remaining

                def call(peer: _Peer, wait: float = wait) -> gateway_pb2.CommitStatusResponse:
                    return self._status(peer, tx_id, max(wait, 0.001))

                try:
                    response = self._each_gateway(call, _StatusUnknown)
                except _StatusUnknown as unknown:
                    found = unknown.failure
                    late = found.code == grpc.StatusCode.DEADLINE_EXCEEDED
                    if late and request is not None and deadline - time.monotonic() > 0:
                        self._send_again(request)
                        continue
                    raise CommitStatusError(
                        f"commit status of {tx_id} unknown: {found.describe()}", tx_id
                    ) from None
                code = transaction_pb2.TxValidationCode.Name(response.result)
                with self._lock:
                    self._seen_height = max(self._seen_height, response.block_number + 1)
                return CommitStatus(tx_id, code, response.block_number)
        finally:
            with self._lock:
                self._submitted.pop(tx_id, None)

    def _send_again(self, request: gateway_pb2.SubmitRequest) -> None:
        try:
            self._send(request)
        except SubmitError as error:  # e.g. no orderer reachable now: wait and try once more later
            log.warning("transaction %s not submitted again: %s", request.transaction_id, error)

    # ---------------------------------------------------------------- blocks
    def _deliver(self, start: int, *, newest: bool = False) -> Iterator[m.Block]:
        for data in self._deliver_raw(start, newest=newest):
            yield m.decode_block(data)

    def _deliver_raw(self, start: int, stop: int | None = None, *, newest: bool = False) -> list[bytes]:
        identity = self._reader.identity
        payload = m.deliver_payload(self.channel_id, identity, start, stop, newest=newest)
        envelope = common_pb2.Envelope(
            payload=payload, signature=self._reader.sign(payload, purpose="deliver")
        )

        def call(peer: _Peer) -> list[bytes]:
            blocks = []
            for response in peer.deliver.Deliver(iter([envelope]), timeout=self._deadlines.deliver):
                kind = response.WhichOneof("Type")
                if kind == "block":
                    blocks.append(response.block.SerializeToString())
                elif kind == "status":
                    if response.status != common_pb2.SUCCESS:
                        name = common_pb2.Status.Name(response.status)
                        raise CommitStatusError(f"the peer refused to deliver blocks: {name}")
                    break
            return blocks

        return self._each_gateway(call, lambda f: CommitStatusError(f"cannot read blocks: {f.describe()}"))

    def organizations(self) -> tuple[str, ...]:
        """The channel's organisations from its newest config block (the newest block names it;
        fetched again only when that changes: a join or a removal is a new config block)."""
        newest = self._deliver_raw(0, newest=True)
        if not newest:
            raise CommitStatusError("the peer delivered no block")
        index = m.last_config_index(newest[-1])
        with self._lock:
            if self._organizations is not None and self._organizations[0] == index:
                return self._organizations[1]
        config = self._deliver_raw(index, index)
        if len(config) != 1:
            raise CommitStatusError(f"the peer did not deliver config block {index}")
        found = m.config_organisations(config[0])
        with self._lock:
            self._organizations = (index, found)
        return found

    def blocks(self, start: int = 0) -> Iterator[m.Block]:
        if start < 0:
            raise CommitStatusError("block numbers start at 0")
        if start >= self.height():
            return iter(())
        return self._deliver(start)

    def record(self, kind: str, key: str) -> dict[str, Any] | None:
        """A Fabric peer shows world state to a client only through the chaincode: the
        contract's query, signed by this client's reader (the platform reads its read model
        first, ``Platform.lookup``)."""
        function, field = RECORD_QUERIES[kind]
        if kind == "terms":
            return self._terms(function, {field: key})
        try:
            found = Contract(self).evaluate(self._reader, function, {field: key})
        except EndorseError as error:
            if isinstance(d.error_from_message(error.chaincode_message or ""), d.NotFoundError):
                return None
            raise
        return found if isinstance(found, dict) else None

    def _terms(self, function: str, request: dict[str, Any]) -> dict[str, Any] | None:
        """The private terms, asked of the reader's own organisation's peers (the operator's: a
        member of every terms collection; the gateway's peer may be another organisation's, which
        holds only their hash). A member's peer that committed the approval's block before the
        values reached it (a non-endorsing member receives them from the endorsers, or pulls
        them) answers ``terms`` None for a moment: asked again until ``PRIVATE_DATA_WAIT``."""
        deadline = time.monotonic() + PRIVATE_DATA_WAIT
        not_found_again = False
        while True:
            own = self._reader.identity.msp_id
            try:
                found = Contract(self).evaluate(self._reader, function, request, organizations=(own,))
            except EndorseError as error:
                if not isinstance(d.error_from_message(error.chaincode_message or ""), d.NotFoundError):
                    raise
                if not_found_again:
                    return None
                # the reader's organisation's peer may be behind (just started again, catching
                # up): asked once more when it holds the newest block seen
                not_found_again = True
                self._await_peers([p for p in self._peers if p.endpoint.msp_id == own])
                continue
            if not isinstance(found, dict):
                return None
            if found.get("terms") or not found.get("sha256") or time.monotonic() > deadline:
                return found
            log.info("the terms of %s are not on the reader's peer yet", request)
            time.sleep(CATCH_UP_POLL)

    def height(self) -> int:
        newest = list(self._deliver(0, newest=True))
        return newest[-1].number + 1 if newest else 0

    def close(self) -> None:
        for peer in self._peers:
            peer.close()


class _Disagreed(Exception):
    def __init__(self, found: GatewayFailure) -> None:
        super().__init__(found.describe())
        self.failure = found


class _Behind(EndorseError):
    """A peer that refused stayed behind the newest block: the refusal may be of a stale state."""


class _StatusUnknown(Exception):
    def __init__(self, failure: GatewayFailure) -> None:
        super().__init__(failure.describe())
        self.failure = failure


def _endorse_error(phase: str, found: GatewayFailure, tx_id: str) -> LedgerError:
    chaincode_message = found.chaincode_message()
    if chaincode_message is not None:
        return EndorseError(f"chaincode refused the {phase}: {chaincode_message}", tx_id, chaincode_message)
    return EndorseError(f"{phase} failed: {found.describe()}", tx_id)


def _has_transient(signed: proposal_pb2.SignedProposal) -> bool:
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    return bool(proposal_pb2.ChaincodeProposalPayload.FromString(proposal.payload).TransientMap)


def _tx_id_of_proposal(proposal: proposal_pb2.SignedProposal) -> str:
    try:
        return m.decode_proposal(proposal.proposal_bytes).tx_id
    except m.MessageError as error:
        raise EndorseError(f"bad proposal: {error}") from error


def _tx_id_of_envelope(envelope: common_pb2.Envelope) -> str:
    try:
        payload = common_pb2.Payload.FromString(envelope.payload)
        return str(common_pb2.ChannelHeader.FromString(payload.header.channel_header).tx_id)
    except Exception as error:
        raise SubmitError("the envelope does not decode") from error
