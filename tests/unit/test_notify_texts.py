"""#20: an e-mail says of each notice what the portal's inbox says, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from goldticket.services.notify import texts
from goldticket.store.notices import KINDS
from web.portal.inbox_views import NOTICE_TEXT

pytestmark = pytest.mark.unit
CATALOG = Path(__file__).resolve().parents[2] / "web/portal/translations/zh/LC_MESSAGES/messages.po"


def test_the_e_mails_say_what_the_inbox_says_in_english_and_chinese() -> None:
    with CATALOG.open("rb") as po:
        catalog = read_po(po)
    for kind in KINDS:
        english = NOTICE_TEXT[kind]._args[0]  # the lazy string's msgid
        assert texts.SUBJECTS["en"][kind] == english, kind
        assert texts.SUBJECTS["zh"][kind] == catalog.get(english).string, kind


def test_an_e_mail_body_names_the_ticket_amount_counterparty_and_china_time() -> None:
    zh = texts.body(
        "zh",
        "offer_received",
        ticket_id="TK0123456789abcdef0123",
        amount_fen=100_000_005,
        counterparty="苏州精密零部件有限公司 (szjm)",
        timestamp="2026-12-01T16:30:00+00:00",
        url="https://goldticket.example/tickets/TK0123456789abcdef0123",
    )
    assert "有转让要约给您" in zh and "¥1,000,000.05" in zh and "2026-12-02 00:30 (UTC+8)" in zh
    assert "苏州精密零部件有限公司 (szjm)" in zh and "https://goldticket.example/tickets/" in zh
    en = texts.body(
        "en",
        "ticket_frozen",
        ticket_id="TK1",
        amount_fen=1,
        counterparty="",
        timestamp="2026-12-01T00:00:00+00:00",
        url="u",
    )
    assert "CNY 0.01" in en and "Counterparty" not in en
