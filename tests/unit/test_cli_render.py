"""The readable output: amounts in yuan, times in China time, tables aligned with Chinese text."""

from __future__ import annotations

from goldticket.cli._render import _width, render


def test_tables_show_yuan_and_china_time() -> None:
    rows = [
        {
            "id": "OF1",
            "amount_fen": 100_000_005,
            "created_at": "2026-11-30T16:30:00+00:00",
            "tx_id": "ab" * 32,
        },
        {"id": "OF2", "amount_fen": 7, "created_at": "2026-12-01T01:00:00+00:00", "tx_id": "cd" * 32},
    ]
    lines = render(rows)
    assert lines[0].split() == ["id", "amount", "(yuan)", "created_at"]
    assert "1,000,000.05" in lines[1] and "2026-12-01 00:30:00 CST" in lines[1]
    assert lines[2].index("0.07") + 4 == lines[1].index("1,000,000.05") + 12  # right-aligned money
    assert "ab" * 32 not in "\n".join(lines)  # long ids stay in --json


def test_chinese_text_keeps_columns_aligned() -> None:
    lines = render(
        [{"id": "m1", "name": "华东重工", "role": "core"}, {"id": "m2", "name": "ab", "role": "bank"}]
    )
    # a Chinese character takes two columns on a terminal
    assert _width(lines[1][: lines[1].index("core")]) == _width(lines[2][: lines[2].index("bank")])


def test_a_statement_and_an_empty_list() -> None:
    statement = {
        "statement_id": "ST1",
        "root_id": "TK1",
        "settled_on": "2027-03-01",
        "paid": [{"ticket_id": "TK2", "holder_org_id": "s1", "amount_fen": 100}],
        "withheld": [],
        "total_paid_fen": 100,
    }
    assert render(statement)[-1] == "  total paid 1.00 yuan (壹元整)"
    assert render([]) == ["(none)"]
