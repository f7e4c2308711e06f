"""The bank's report of the issuer's account (#21), as the core enterprise's bank sends it, read
with pyiso20022's bindings (xsdata): the end-of-day statement, ISO 20022 camt.053.001.08
(BankToCustomerStatement), or the debit notification a bank sends as each payment is booked,
camt.054.001.08 (BankToCustomerDebitCreditNotification; same entries, one account notification
instead of one statement). What settlement needs from either: every booked debit of the
issuer's account, by end-to-end id (the piece paid, as the payment file named it), amount, the
bank's reference and the booking date. Pure: no I/O.

The official camt schemas are not in any package this project can install (docs/decisions.md);
the parser is strict instead: unknown elements, another namespace (message or version), a
DOCTYPE (no entity expansion), an amount in another currency or finer than the fen are refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pyiso20022.camt import camt_053_001_08 as camt053
from pyiso20022.camt import camt_054_001_08 as camt054
from xsdata.exceptions import ParserError
from xsdata.formats.dataclass.parsers import XmlParser
from xsdata.formats.dataclass.parsers.config import ParserConfig

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NOTIFICATION_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
_DOCUMENTS: dict[str, Any] = {NAMESPACE: camt053.Document, NOTIFICATION_NAMESPACE: camt054.Document}
CURRENCY = "CNY"
MAX_BYTES = 5 * 1024 * 1024
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class BankStatementError(Exception):
    """The file is not a camt.053.001.08 statement (or camt.054.001.08 notification) this
    platform can read."""


@dataclasses.dataclass(frozen=True)
class BookedDebit:
    end_to_end_id: str
    amount_fen: int
    bank_reference: str
    booked_on: dt.date
    account: str  # the statement's account number


def _fen(value: Decimal, currency: str, where: str) -> int:
    if currency != CURRENCY:
        raise BankStatementError(f"{where}: an amount in {currency}, not {CURRENCY}")
    fen = value * 100
    if fen != fen.to_integral_value() or fen <= 0:
        raise BankStatementError(f"{where}: {value} is not a positive amount in whole fen")
    return int(fen)


def _date(entry: Any, where: str) -> dt.date:
    booked = entry.bookg_dt
    if booked is not None and booked.dt is not None:
        return booked.dt.to_date()
    if booked is not None and booked.dt_tm is not None:
        return booked.dt_tm.to_datetime().date()
    raise BankStatementError(f"{where} has no booking date")


def booked_debits(xml: bytes) -> list[BookedDebit]:
    """Every booked (status BOOK), not reversed, debit of the statement's accounts that carries an
    end-to-end id, one per transaction detail. Raises BankStatementError."""
    if len(xml) > MAX_BYTES:
        raise BankStatementError(f"the statement is larger than {MAX_BYTES // (1024 * 1024)} MB")
    if _DOCTYPE.search(xml):
        raise BankStatementError("the statement declares a DOCTYPE or entities: refused")
    kinds = [namespace for namespace in _DOCUMENTS if namespace.encode() in xml]
    if len(kinds) != 1:
        raise BankStatementError(
            f"not a camt.053.001.08 statement nor a camt.054.001.08 notification (namespace {NAMESPACE})"
        )
    (namespace,) = kinds
    kind = "camt.053.001.08 statement" if namespace == NAMESPACE else "camt.054.001.08 notification"
    parser = XmlParser(config=ParserConfig(fail_on_unknown_properties=True, fail_on_converter_warnings=True))
    try:
        document = parser.from_bytes(xml, _DOCUMENTS[namespace])
    except (ParserError, ValueError, SyntaxError) as error:  # xml.etree's ParseError is a SyntaxError
        raise BankStatementError(f"not a {kind}: {error}") from None
    if namespace == NAMESPACE:
        if document.bk_to_cstmr_stmt is None:
            raise BankStatementError("not a bank-to-customer statement")
        reports, label = document.bk_to_cstmr_stmt.stmt, "statement"
    else:
        if document.bk_to_cstmr_dbt_cdt_ntfctn is None:
            raise BankStatementError("not a bank-to-customer debit/credit notification")
        reports, label = document.bk_to_cstmr_dbt_cdt_ntfctn.ntfctn, "notification"
    return _debits(reports, label)


def _debits(reports: list[Any], label: str) -> list[BookedDebit]:
    found = []
    for report in reports:
        account = report.acct.id.othr.id if report.acct.id.othr is not None else report.acct.id.iban
        for number, entry in enumerate(report.ntry, start=1):
            where = f"{label} {report.id} entry {number}"
            if entry.cdt_dbt_ind.value != "DBIT" or entry.rvsl_ind:
                continue
            if (entry.sts.cd or entry.sts.prtry) != "BOOK":
                continue
            booked_on = _date(entry, where)
            details = [tx for group in entry.ntry_dtls for tx in group.tx_dtls]
            for tx in details or []:
                reference = (tx.refs.acct_svcr_ref if tx.refs else None) or entry.acct_svcr_ref
                end_to_end = tx.refs.end_to_end_id if tx.refs else None
                if not end_to_end or end_to_end == "NOTPROVIDED":
                    continue
                if not reference:
                    raise BankStatementError(f"{where}: no bank reference (AcctSvcrRef)")
                amount = tx.amt if tx.amt is not None else (entry.amt if len(details) == 1 else None)
                if amount is None:
                    raise BankStatementError(f"{where}: a transaction without its amount")
                found.append(
                    BookedDebit(
                        end_to_end_id=end_to_end,
                        amount_fen=_fen(amount.value, amount.ccy, where),
                        bank_reference=reference,
                        booked_on=booked_on,
                        account=str(account or ""),
                    )
                )
    return found
