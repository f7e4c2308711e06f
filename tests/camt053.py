"""A camt.053.001.08 statement as the issuer's bank would send it, for tests only: the booked
debits of the core's account, one entry per credit transfer of a pain.001 payment file (or any
list given), built with pyiso20022's bindings. A real deployment imports its bank's file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pyiso20022.camt.camt_053_001_08 import (
    AccountIdentification4Choice,
    AccountStatement9,
    ActiveOrHistoricCurrencyAndAmount,
    BankToCustomerStatementV08,
    BankTransactionCodeStructure4,
    CashAccount39,
    CreditDebitCode,
    DateAndDateTime2Choice,
    Document,
    EntryDetails9,
    EntryStatus1Choice,
    EntryTransaction10,
    GenericAccountIdentification1,
    GroupHeader81,
    ProprietaryBankTransactionCodeStructure1,
    ReportEntry10,
    TransactionReferences6,
)
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDate, XmlDateTime

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def statement(
    account: str,
    debits: list[tuple[str, int, str]],
    booked_on: dt.date,
    *,
    currency: str = "CNY",
    status: str = "BOOK",
    extra_credit: bool = True,
) -> bytes:
    """``debits``: (end-to-end id, amount in fen, bank reference). With ``extra_credit`` the
    statement also books an unrelated credit (a statement holds more than our payments)."""

    def entry(e2e: str, fen: int, reference: str, sign: CreditDebitCode) -> ReportEntry10:
        amount = ActiveOrHistoricCurrencyAndAmount(
            value=(Decimal(fen) / 100).quantize(Decimal("0.01")), ccy=currency
        )
        return ReportEntry10(
            amt=amount,
            cdt_dbt_ind=sign,
            sts=EntryStatus1Choice(cd=status),
            bookg_dt=DateAndDateTime2Choice(dt=XmlDate.from_date(booked_on)),
            acct_svcr_ref=reference,
            bk_tx_cd=BankTransactionCodeStructure4(prtry=ProprietaryBankTransactionCodeStructure1(cd="TRF")),
            ntry_dtls=[
                EntryDetails9(
                    tx_dtls=[
                        EntryTransaction10(
                            refs=TransactionReferences6(end_to_end_id=e2e, acct_svcr_ref=reference),
                            amt=amount,
                        )
                    ]
                )
            ],
        )

    entries = [entry(e2e, fen, ref, CreditDebitCode.DBIT) for e2e, fen, ref in debits]
    if extra_credit:
        entries.append(entry("SOMEONE-ELSE", 12_345, "CR-0001", CreditDebitCode.CRDT))
    document = Document(
        bk_to_cstmr_stmt=BankToCustomerStatementV08(
            grp_hdr=GroupHeader81(
                msg_id=f"STMT-{booked_on.isoformat()}",
                cre_dt_tm=XmlDateTime.from_datetime(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
            ),
            stmt=[
                AccountStatement9(
                    id=f"S-{booked_on.isoformat()}",
                    acct=CashAccount39(
                        id=AccountIdentification4Choice(othr=GenericAccountIdentification1(id=account))
                    ),
                    ntry=entries,
                )
            ],
        )
    )
    serializer = XmlSerializer(config=SerializerConfig(encoding="UTF-8", xml_declaration=True, indent="  "))
    return serializer.render(document, ns_map={None: NAMESPACE}).encode()
