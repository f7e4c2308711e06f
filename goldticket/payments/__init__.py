"""Payment files for the banks (#21): an ISO 20022 pain.001.001.09 credit-transfer initiation
that the core enterprise hands its bank to pay the holders of a settled root ticket, one credit
transfer per piece (end-to-end id = the piece's id), to each holder's registered settlement
account. Built with pyiso20022's bindings (xsdata dataclasses) and validated against the
official schema shipped in ``schemas/`` (xmlschema) before it leaves this module: a file that
does not validate is never handed out. Pure: no I/O but reading the schema."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from decimal import Decimal
from importlib import resources

import xmlschema
from pyiso20022.pain.pain_001_001_09 import (
    AccountIdentification4Choice,
    ActiveOrHistoricCurrencyAndAmount,
    AmountType4Choice,
    BranchAndFinancialInstitutionIdentification6,
    CashAccount38,
    ClearingSystemIdentification2Choice,
    ClearingSystemMemberIdentification2,
    CreditTransferTransaction34,
    CustomerCreditTransferInitiationV09,
    DateAndDateTime2Choice,
    Document,
    FinancialInstitutionIdentification18,
    GenericAccountIdentification1,
    GroupHeader85,
    PartyIdentification135,
    PaymentIdentification6,
    PaymentInstruction30,
    PaymentMethod3Code,
    RemittanceInformation16,
)
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDate, XmlDateTime

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CURRENCY = "CNY"
# ISO 20022 ExternalClearingSystemIdentification1Code: China National Advanced Payment System
CLEARING_SYSTEM = "CNAPS"


class PaymentFileError(Exception):
    """The payment file could not be made (a party without an account) or does not validate."""


@dataclasses.dataclass(frozen=True)
class Account:
    """A party's settlement account: its name (the party's own), number, bank and CNAPS code."""

    name: str
    number: str
    bank_name: str
    cnaps_code: str


@dataclasses.dataclass(frozen=True)
class CreditTransfer:
    end_to_end_id: str  # the piece's id
    amount_fen: int
    creditor: Account
    remittance: str  # what the payee's statement shows


@functools.cache
def schema() -> xmlschema.XMLSchema:
    with resources.as_file(resources.files(__package__) / "schemas" / "pain.001.001.09.xsd") as path:
        return xmlschema.XMLSchema(str(path))


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _agent(account: Account) -> BranchAndFinancialInstitutionIdentification6:
    member = ClearingSystemMemberIdentification2(
        clr_sys_id=ClearingSystemIdentification2Choice(cd=CLEARING_SYSTEM), mmb_id=account.cnaps_code
    )
    return BranchAndFinancialInstitutionIdentification6(
        fin_instn_id=FinancialInstitutionIdentification18(clr_sys_mmb_id=member, nm=account.bank_name[:140])
    )


def _account(account: Account) -> CashAccount38:
    return CashAccount38(
        id=AccountIdentification4Choice(othr=GenericAccountIdentification1(id=account.number)),
        ccy=CURRENCY,
        nm=account.name[:70],
    )


def credit_transfer_initiation(
    *,
    message_id: str,
    created_at: dt.datetime,
    execution_date: dt.date,
    debtor: Account,
    transfers: list[CreditTransfer],
) -> bytes:
    """The pain.001.001.09 document (UTF-8 XML) paying ``transfers`` from ``debtor``'s account on
    ``execution_date``; NbOfTxs and CtrlSum are the transfers' count and exact sum. Raises
    PaymentFileError when there is nothing to pay or the document does not validate."""
    if not transfers:
        raise PaymentFileError("nothing to pay: the statement pays no piece")
    if len({t.end_to_end_id for t in transfers}) != len(transfers):
        raise PaymentFileError("each piece is paid once: end-to-end ids repeat")
    total = sum(t.amount_fen for t in transfers)
    when = XmlDateTime.from_datetime(created_at.astimezone(dt.UTC).replace(microsecond=0))
    transactions = [
        CreditTransferTransaction34(
            pmt_id=PaymentIdentification6(instr_id=t.end_to_end_id[:35], end_to_end_id=t.end_to_end_id[:35]),
            amt=AmountType4Choice(
                instd_amt=ActiveOrHistoricCurrencyAndAmount(value=_yuan(t.amount_fen), ccy=CURRENCY)
            ),
            cdtr_agt=_agent(t.creditor),
            cdtr=PartyIdentification135(nm=t.creditor.name[:140]),
            cdtr_acct=_account(t.creditor),
            rmt_inf=RemittanceInformation16(ustrd=[t.remittance[:140]]),
        )
        for t in transfers
    ]
    document = Document(
        cstmr_cdt_trf_initn=CustomerCreditTransferInitiationV09(
            grp_hdr=GroupHeader85(
                msg_id=message_id[:35],
                cre_dt_tm=when,
                nb_of_txs=str(len(transfers)),
                ctrl_sum=_yuan(total),
                initg_pty=PartyIdentification135(nm=debtor.name[:140]),
            ),
            pmt_inf=[
                PaymentInstruction30(
                    pmt_inf_id=message_id[:35],
                    pmt_mtd=PaymentMethod3Code.TRF,
                    nb_of_txs=str(len(transfers)),
                    ctrl_sum=_yuan(total),
                    reqd_exctn_dt=DateAndDateTime2Choice(dt=XmlDate.from_date(execution_date)),
                    dbtr=PartyIdentification135(nm=debtor.name[:140]),
                    dbtr_acct=_account(debtor),
                    dbtr_agt=_agent(debtor),
                    cdt_trf_tx_inf=transactions,
                )
            ],
        )
    )
    serializer = XmlSerializer(config=SerializerConfig(encoding="UTF-8", xml_declaration=True, indent="  "))
    xml = serializer.render(document, ns_map={None: NAMESPACE}).encode()
    errors = list(schema().iter_errors(xml.decode()))
    if errors:
        raise PaymentFileError(
            f"the payment file does not validate against pain.001.001.09: {errors[0].reason}"
        )
    return xml
