"""goldticket.payments: the pain.001.001.09 file is valid against the shipped official schema,
exact to the fen, and refuses what a bank would (nothing to pay, a piece paid twice, a field the
schema does not allow)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goldticket.payments import Account, CreditTransfer, PaymentFileError, credit_transfer_initiation, schema

DEBTOR = Account("北方钢铁集团", "6222020000000001", "中国工商银行", "102100000030")
SCHEMA_SHA256 = "de038b373e47b0077b1832ddd81f4b2f1eb25d35721f62da1e38b7f5a09fda24"


def _file(transfers: list[CreditTransfer], debtor: Account = DEBTOR) -> str:
    return credit_transfer_initiation(
        message_id="ST00000000000000000001",
        created_at=dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC),
        execution_date=dt.date(2027, 3, 1),
        debtor=debtor,
        transfers=transfers,
    ).decode()


def _payee(index: int) -> Account:
    return Account(f"供应商 {index}", f"62220200000{index:05d}", "中国建设银行", "105100000017")


def test_the_shipped_schema_is_the_official_one() -> None:
    data = (resources.files("goldticket.payments") / "schemas" / "pain.001.001.09.xsd").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    assert b"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09" in data


@settings(max_examples=40, deadline=None, database=None)
@given(st.lists(st.integers(1, 10**12), min_size=1, max_size=12))
def test_every_file_validates_and_its_control_sum_is_the_fen_exact_total(amounts: list[int]) -> None:
    transfers = [
        CreditTransfer(f"TK{i:020x}", amount, _payee(i), f"GoldTicket TK{i:020x}")
        for i, amount in enumerate(amounts)
    ]
    xml = _file(transfers)
    schema().validate(xml)
    total = Decimal(sum(amounts)) / 100
    assert f"<CtrlSum>{total:.2f}</CtrlSum>" in xml
    assert xml.count("<EndToEndId>") == len(amounts)


def test_what_a_bank_would_refuse_is_refused() -> None:
    with pytest.raises(PaymentFileError, match="nothing to pay"):
        _file([])
    twice = CreditTransfer("TK" + "0" * 20, 100, _payee(1), "x")
    with pytest.raises(PaymentFileError, match="once"):
        _file([twice, twice])
    bad_agent = Account("北方钢铁集团", "6222020000000001", "中国工商银行", "")  # an empty member id
    with pytest.raises(PaymentFileError, match="does not validate"):
        _file([twice], debtor=bad_agent)
