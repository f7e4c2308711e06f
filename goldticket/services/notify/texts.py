"""What an e-mail says about each kind of notice, in the member's language (zh or en): the
sentences of the portal's inbox (web/portal/inbox_views.py NOTICE_TEXT and its zh catalog; a
test keeps them the same)."""

from __future__ import annotations

import datetime as dt

from goldticket import domain as d
from goldticket.store.notices import KINDS

LANGUAGES = ("zh", "en")
CHINA = dt.timezone(dt.timedelta(hours=8))

SUBJECTS = {
    "en": {
        "ticket_issued": "A ticket was issued to you: accept or reject it",
        "ticket_accepted": "Your ticket was accepted by its payee",
        "ticket_rejected": "Your ticket was rejected by its payee",
        "ticket_cancelled": "A ticket issued to you was withdrawn by its issuer",
        "ticket_settled": "A piece you held was paid at maturity",
        "ticket_frozen": "A piece you hold was frozen by the operator",
        "ticket_unfrozen": "A piece you hold was unfrozen by the operator",
        "offer_received": "A transfer was offered to you: accept or reject it",
        "offer_accepted": "Your transfer offer was accepted",
        "offer_rejected": "Your transfer offer was rejected",
        "offer_withdrawn": "A transfer offered to you was withdrawn",
        "assignment_notified": "Notice of assignment: a receivable you owe was assigned",
        "financing_requested": "A financing application waits for your review",
        "financing_approved": "Your financing application was approved",
        "financing_rejected": "Your financing application was declined",
        "account_changed": "A counterparty's settlement account changed",
    },
    "zh": {
        "ticket_issued": "有金票开给您：请签收或拒收",
        "ticket_accepted": "您开立的金票已被收款方签收",
        "ticket_rejected": "您开立的金票被收款方拒收",
        "ticket_cancelled": "开给您的金票已被开立方撤回",
        "ticket_settled": "您持有的金票已到期兑付",
        "ticket_frozen": "您持有的金票被运营方冻结",
        "ticket_unfrozen": "您持有的金票被运营方解冻",
        "offer_received": "有转让要约给您：请接受或拒绝",
        "offer_accepted": "您的转让要约已被接受",
        "offer_rejected": "您的转让要约被拒绝",
        "offer_withdrawn": "给您的转让要约已撤回",
        "assignment_notified": "债权转让通知：您应付的一笔债权已转让",
        "financing_requested": "有融资申请待您审核",
        "financing_approved": "您的融资申请已获批准",
        "financing_rejected": "您的融资申请被拒绝",
        "account_changed": "交易对手的结算账户已变更",
    },
}
assert all(set(texts) == set(KINDS) for texts in SUBJECTS.values())

_LABELS = {
    "en": {
        "ticket": "Ticket",
        "amount": "Amount",
        "counterparty": "Counterparty",
        "when": "When",
        "portal": "Open the portal",
        "footer": "You receive this e-mail because your company's administrator chose it in the"
        " portal's notification settings.",
        "currency": "CNY",
    },
    "zh": {
        "ticket": "金票编号",
        "amount": "金额",
        "counterparty": "对方",
        "when": "时间",
        "portal": "登录平台查看",
        "footer": "贵公司管理员在平台的通知设置中选择了接收此类邮件。",
        "currency": "¥",
    },
}


def subject(language: str, kind: str) -> str:
    return (
        "[GoldTicket] " + SUBJECTS[language][kind]
        if language == "en"
        else "【金票】" + SUBJECTS[language][kind]
    )


def body(
    language: str, kind: str, *, ticket_id: str, amount_fen: int, counterparty: str, timestamp: str, url: str
) -> str:
    """The e-mail's text: what happened, to which ticket, how much, with whom and when (China time)."""
    labels = _LABELS[language]
    when = dt.datetime.fromisoformat(timestamp).astimezone(CHINA).strftime("%Y-%m-%d %H:%M") + " (UTC+8)"
    amount = (
        f"{labels['currency']} {d.format_fen(amount_fen)}"
        if language == "en"
        else f"¥{d.format_fen(amount_fen)}"
    )
    lines = [SUBJECTS[language][kind], ""]
    if ticket_id:  # a change of a counterparty's account names no ticket and no amount
        lines += [f"{labels['ticket']}: {ticket_id}", f"{labels['amount']}: {amount}"]
    if counterparty:
        lines.append(f"{labels['counterparty']}: {counterparty}")
    lines += [f"{labels['when']}: {when}", "", f"{labels['portal']}: {url}", "", "-- ", labels["footer"], ""]
    return "\n".join(lines)
