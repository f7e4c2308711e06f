"""#21 terms: a payment term over six months needs a stated reason, recorded with the ticket
on the ledger (and carried by its pieces); over the term cap (12 months) it is refused still;
the signing gateway refuses a ticket written without the reason its intent states."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from support import PIN, TODAY

from goldticket import domain as d
from goldticket.services import tickets

pytestmark = pytest.mark.scenario


def _invoice(number: str, amount_fen: int) -> dict[str, object]:
    return {"number": number, "amount_fen": amount_fen, "sha256": hashlib.sha256(number.encode()).hexdigest()}


def _issue(consortium, number: str, maturity: dt.date, reason: str | None = None) -> dict[str, object]:
    return tickets.issue_ticket(
        consortium.platform,
        consortium.core,
        payee_org_id="tier1",
        amount_fen=1_000_000,
        maturity_date=maturity,
        invoices=[_invoice(number, 1_000_000)],
        term_reason=reason,
        pin=PIN,
    )


def test_a_term_over_six_months_needs_a_reason_recorded_on_the_ledger(consortium):
    p = consortium.platform
    six = d.add_months(TODAY, 6)
    assert "term_reason" not in _issue(consortium, "INV-T6", six)  # six months exactly: none needed
    height = p.ledger.height()
    with pytest.raises(d.RuleViolationError, match="over 6 months needs a stated reason"):
        _issue(consortium, "INV-T7", six + dt.timedelta(days=1))
    with pytest.raises(d.RuleViolationError, match="over 6 months needs a stated reason"):
        _issue(consortium, "INV-T7", six + dt.timedelta(days=1), "   ")
    assert p.ledger.height() == height  # refused, nothing written
    issued = _issue(consortium, "INV-T7", six + dt.timedelta(days=1), " 设备验收周期 7 个月 ")
    assert issued["term_reason"] == "设备验收周期 7 个月"
    on_ledger = p.evaluate("GetTicket", {"ticket_id": issued["id"]})
    assert on_ledger["term_reason"] == "设备验收周期 7 个月"
    with pytest.raises(d.RuleViolationError, match="at most 12 months"):
        _issue(consortium, "INV-T13", d.add_months(TODAY, 12) + dt.timedelta(days=1), "a long project")


def test_the_domain_rule_for_a_long_term():
    issue = dt.date(2026, 1, 31)
    assert d.check_term(issue, dt.date(2026, 7, 31)) is None  # 6 months to the day
    with pytest.raises(d.RuleViolationError):
        d.check_term(issue, dt.date(2026, 8, 1))
    assert d.check_term(issue, dt.date(2026, 8, 1), 12, "  reason ") == "reason"
    for bad in ("x" * 501, "line\nbreak", 42):
        with pytest.raises(d.InvalidInputError):
            d.check_term(issue, dt.date(2026, 8, 1), 12, bad)  # type: ignore[arg-type]
    assert (
        d.check_term(issue, dt.date(2026, 7, 1), 6, "stated though not needed") == "stated though not needed"
    )
