"""GoldTicketContract: every gold ticket transaction, authorised by who signed it.

Each transaction takes one JSON object and returns JSON. Rules come from goldticket.domain; the
contract loads state, checks the signer (MSP ID, certificate attributes, and that the identity
is registered and not revoked) and writes deterministic JSON. Errors leave as
``"<code>: <sentence>"`` so clients rebuild the same typed error.

The transactions live by area, each a class of ``@transaction`` methods composed here into the
one contract (fabric-chaincode-python registers every public method it finds on the contract,
inherited ones included): identities and members, tickets and offers, credit and financing,
settlement, certificates. A helper method that is not a transaction starts with ``_``.
"""

from __future__ import annotations

from fabric_chaincode_python.fabric_contract_api import Contract

from .accounts import AccountChangeTransactions
from .certificates import CertificateTransactions
from .dual_control import DualControlTransactions
from .financing import FinancingTransactions
from .identities import IdentityTransactions
from .recourse import RecourseTransactions
from .registration import RegistrationTransactions
from .rehearsal import RehearsalTransactions
from .settlement import SettlementTransactions
from .tickets import TicketTransactions
from .transactions import QUERIES, Tx, transaction

__all__ = ["QUERIES", "GoldTicketContract", "Tx", "transaction"]


class GoldTicketContract(
    IdentityTransactions,
    TicketTransactions,
    FinancingTransactions,
    SettlementTransactions,
    CertificateTransactions,
    RehearsalTransactions,
    RecourseTransactions,
    DualControlTransactions,
    RegistrationTransactions,
    AccountChangeTransactions,
    Contract,
):
    Name = "GoldTicket"

    def get_evaluate_transactions(self) -> list[str]:
        return list(QUERIES)
