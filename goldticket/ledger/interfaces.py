"""The Ledger port: what both adapters (embedded ``local`` and ``fabric``) offer.

It takes the same signed messages a Fabric peer's Gateway takes. Signing happens outside,
through any Signer, with the offline-signing shape of fabric-gateway: the caller builds the
bytes, the signer signs them, the caller hands the signed message over.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterator
from typing import Any

from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2

from goldticket.messages import Block, PreparedTransaction


@dataclasses.dataclass(frozen=True)
class CommitStatus:
    tx_id: str
    validation_code: str  # Fabric's TxValidationCode name, "VALID" when committed
    block_number: int

    @property
    def ok(self) -> bool:
        return self.validation_code == "VALID"


class Ledger(abc.ABC):
    kind: str
    channel_id: str
    chaincode: str

    @abc.abstractmethod
    def evaluate(self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()) -> bytes:
        """Run a query and return its result; nothing is written. Raises EndorseError.
        ``organizations``: only their peers may answer (a private data read must reach a member
        of the collection; the embedded ledger holds every collection)."""

    @abc.abstractmethod
    def endorse(
        self, proposal: proposal_pb2.SignedProposal, organizations: tuple[str, ...] = ()
    ) -> PreparedTransaction:
        """Simulate the transaction and return the endorsed, unsigned envelope payload; with
        ``organizations``, endorsed by exactly those organisations' peers and sent through no
        other organisation's gateway (a proposal carrying private data, #19)."""

    @abc.abstractmethod
    def submit(self, envelope: common_pb2.Envelope) -> None:
        """Hand a signed transaction over for ordering and commit. Raises SubmitError."""

    @abc.abstractmethod
    def commit_status(
        self, tx_id: str, sign: object | None = None, *, wait: float | None = None
    ) -> CommitStatus:
        """Wait for and return the commit status of ``tx_id``: at most ``wait`` seconds when
        given (asking whether a transaction committed, not waiting for one just submitted),
        else the ledger's own deadline. Raises LedgerError when it is not known by then."""

    @abc.abstractmethod
    def blocks(self, start: int = 0) -> Iterator[Block]:
        """Committed blocks from ``start`` on, in order (the read model follows these)."""

    @abc.abstractmethod
    def record(self, kind: str, key: str) -> dict[str, Any] | None:
        """The committed world-state document the contract keeps as ``kind`` ``key`` (member,
        ticket, offer, application; ``terms``: an approved application's discount terms as
        GetFinancingTerms answers them, from its private data collection), or None. For the platform's own checks before a write
        (what the operator's read identity would read, not shown to anyone as such): the
        chaincode still decides on submit, so a stale answer can only move a refusal."""

    @abc.abstractmethod
    def height(self) -> int:
        """The number of blocks committed."""

    def organizations(self) -> tuple[str, ...] | None:
        """The channel's member organisations (MSP ids) as its current config names them, whose
        peers a MAJORITY endorsement counts; None where the ledger has no channel config to read
        (the embedded ledger: its organisations are fixed when it is made)."""
        return None

    def rehearse(self, proposal_bytes: bytes) -> bytes | None:
        """Run the chaincode on an unsigned proposal (the creator's identity as it will sign):
        its own rules against the current state, nothing endorsed, kept or ordered, so that a
        refusal is known before the signer types a PIN. Raises EndorseError for a refusal;
        returns the payload, or None where the ledger cannot (a Fabric peer endorses signed
        proposals only)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
