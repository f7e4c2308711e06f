"""A camt.053.001.08 statement (or a camt.054.001.08 debit notification) as the issuer's bank
would send it, for tests only: the booked debits of the core's account, one entry per credit
transfer of a pain.001 payment file (or any list given), built with pyiso20022's bindings. A
real deployment imports its bank's file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pyiso20022.camt import camt_053_001_08 as c053
from pyiso20022.camt import camt_054_001_08 as c054
from xsdata.formats.dataclass.serializers import XmlSerializer
from xsdata.formats.dataclass.serializers.config import SerializerConfig
from xsdata.models.datatype import XmlDate, XmlDateTime

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NOTIFICATION_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"


def statement(
    account: str,
    debits: list[tuple[str, int, str]],
    booked_on: dt.date,
    *,
    currency: str = "CNY",
    status: str = "BOOK",
    extra_credit: bool = True,
    notification: bool = False,
) -> bytes:
    """``debits``: (end-to-end id, amount in fen, bank reference). With ``extra_credit`` the
    statement also books an unrelated credit (a statement holds more than our payments). With
    ``notification`` a camt.054.001.08 debit notification of the same entries."""
    m = c054 if notification else c053

    def entry(e2e: str, fen: int, reference: str, sign: Any) -> Any:
        amount = m.ActiveOrHistoricCurrencyAndAmount(
            value=(Decimal(fen) / 100).quantize(Decimal("0.01")), ccy=currency
        )
        return m.ReportEntry10(
            amt=amount,
            cdt_dbt_ind=sign,
            sts=m.EntryStatus1Choice(cd=status),
            bookg_dt=m.DateAndDateTime2Choice(dt=XmlDate.from_date(booked_on)),
            acct_svcr_ref=reference,
            bk_tx_cd=m.BankTransactionCodeStructure4(
                prtry=m.ProprietaryBankTransactionCodeStructure1(cd="TRF")
            ),
            ntry_dtls=[
                m.EntryDetails9(
                    tx_dtls=[
                        m.EntryTransaction10(
                            refs=m.TransactionReferences6(end_to_end_id=e2e, acct_svcr_ref=reference),
                            amt=amount,
                        )
                    ]
                )
            ],
        )

    entries = [entry(e2e, fen, ref, m.CreditDebitCode.DBIT) for e2e, fen, ref in debits]
    if extra_credit:
        entries.append(entry("SOMEONE-ELSE", 12_345, "CR-0001", m.CreditDebitCode.CRDT))
    header = m.GroupHeader81(
        msg_id=f"{'NTFCTN' if notification else 'STMT'}-{booked_on.isoformat()}",
        cre_dt_tm=XmlDateTime.from_datetime(dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
    )
    account_id = m.CashAccount39(
        id=m.AccountIdentification4Choice(othr=m.GenericAccountIdentification1(id=account))
    )
    if notification:
        document = c054.Document(
            bk_to_cstmr_dbt_cdt_ntfctn=c054.BankToCustomerDebitCreditNotificationV08(
                grp_hdr=header,
                ntfctn=[
                    c054.AccountNotification17(id=f"N-{booked_on.isoformat()}", acct=account_id, ntry=entries)
                ],
            )
        )
    else:
        document = c053.Document(
            bk_to_cstmr_stmt=c053.BankToCustomerStatementV08(
                grp_hdr=header,
                stmt=[c053.AccountStatement9(id=f"S-{booked_on.isoformat()}", acct=account_id, ntry=entries)],
            )
        )
    serializer = XmlSerializer(config=SerializerConfig(encoding="UTF-8", xml_declaration=True, indent="  "))
    return serializer.render(
        document, ns_map={None: NOTIFICATION_NAMESPACE if notification else NAMESPACE}
    ).encode()
