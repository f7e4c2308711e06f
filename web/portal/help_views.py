"""Help (#20): a glossary of the ticket's states and the platform's terms in the page's
language, open to anyone (a supplier reads it before its first login), and a short tour of
each role's day, shown on the work page after a user's first login (activation) until they
close it, and again whenever they ask for it from the help page. Whether the tour is open
lives in the signed session cookie: nothing to store per user."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from goldticket.domain.status import OVERDUE, TicketStatus

from ._blueprint import OPEN_ENDPOINTS, actor, bp, member_names
from .formatting import STATUS_TEXT

OPEN_ENDPOINTS.add("portal.help")

# what each state means to the people who see it, in the order a ticket lives them
STATE_MEANING = {
    TicketStatus.PENDING_ACCEPTANCE: _l(
        "The core enterprise has issued the ticket; its payee has not accepted it yet. It uses the issuer's"
        " credit line until it is accepted, rejected or withdrawn."
    ),
    TicketStatus.ACTIVE: _l(
        "Held by its holder: it can be transferred in whole or in part, financed with a bank, or kept until"
        " maturity."
    ),
    TicketStatus.LOCKED_TRANSFER: _l(
        "Its holder has offered (part of) it to another member; nothing else can be done with it until the"
        " offer is accepted, rejected or withdrawn."
    ),
    TicketStatus.LOCKED_FINANCING: _l(
        "Its holder has applied to a bank for financing; it waits for the bank's approval or rejection."
    ),
    TicketStatus.SPLIT: _l(
        "It was divided into pieces by a transfer or a financing; the pieces carry its value on, and the"
        " amounts of all pieces add up to it exactly."
    ),
    TicketStatus.FINANCED: _l("A bank has paid the proceeds and holds the piece until maturity."),
    TicketStatus.SETTLED: _l(
        "The issuer paid its holder at maturity; the clearing statement of its root ticket shows the payment."
    ),
    TicketStatus.REJECTED: _l("Its payee refused it; it is closed and the credit line is released."),
    TicketStatus.CANCELLED: _l("Its issuer withdrew it before acceptance; it is closed."),
    TicketStatus.FROZEN: _l(
        "The operator froze it (for example by a court's order); nobody can move it until it is unfrozen."
    ),
    OVERDUE: _l("Shown, not stored: a live piece whose maturity date has passed without settlement."),
}

TERMS = (
    (
        _l("Gold ticket"),
        _l(
            "A digital receivable a core enterprise issues to its supplier against a real payable (an invoice):"
            " a promise to pay a sum in fen on its maturity date to whoever holds it then."
        ),
    ),
    (
        _l("Root ticket and pieces"),
        _l(
            "The ticket as issued is the root; each transfer or financing of part of it splits it into pieces."
            " Every piece keeps the root's issuer and maturity."
        ),
    ),
    (_l("Issuer"), _l("The core enterprise that issued the ticket and pays it at maturity.")),
    (_l("Holder"), _l("The member that owns a piece now and is paid for it at maturity.")),
    (
        _l("Transfer"),
        _l(
            "The holder offers a piece or part of it to a member of its supply chain; the payee accepts it with"
            " its own card."
        ),
    ),
    (
        _l("Financing (discount)"),
        _l(
            "The holder sells a piece to a bank before maturity; the bank pays the amount less interest and"
            " fees (the proceeds) and is paid the full amount at maturity."
        ),
    ),
    (
        _l("Credit line"),
        _l(
            "The amount a bank has granted a core enterprise; its issued and not yet settled tickets use it up,"
            " and settlement releases it."
        ),
    ),
    (_l("Maturity date"), _l("The day the issuer pays every live piece of the ticket.")),
    (
        _l("Settlement and clearing statement"),
        _l(
            "At maturity the issuer pays the holder of each live piece; the clearing statement lists every"
            " payment of the root ticket to the fen."
        ),
    ),
    (
        _l("Certificate"),
        _l(
            "A signed PDF of a ticket's state recorded on the ledger; a bank verifies it (valid, stale or"
            " forged) before it pays."
        ),
    ),
    (
        _l("Card and PIN"),
        _l(
            "Each user's signing key lives in their own card (a SIM's secure element); every ledger write is"
            " signed in it after its user types their PIN. Nobody else, the operator included, can sign for them."
        ),
    ),
    (
        _l("Day basis"),
        _l("How a bank counts interest days in a year (360 or 365), part of its financing terms."),
    ),
    (
        _l("Operator"),
        _l(
            "The platform's operator: it registers members and hands out cards, and may freeze a ticket;"
            " it cannot move a member's ticket."
        ),
    ),
)

# each role's day in a few steps: (title, what to do, endpoint of the page that does it)
TOURS: dict[str, tuple[tuple[Any, Any, str], ...]] = {
    "core": (
        (
            _l("Issue"),
            _l("Issue a ticket to a supplier against an invoice, on a bank's credit line."),
            "portal.issue",
        ),
        (_l("Work"), _l("Follow the tickets waiting for acceptance and settle those due."), "portal.home"),
        (_l("Credit lines"), _l("See how much of each line your tickets use."), "portal.credit_lines"),
        (_l("Find tickets"), _l("Search, filter and export every ticket you issued."), "portal.find_tickets"),
    ),
    "supplier": (
        (
            _l("Work"),
            _l("Accept the tickets issued or transferred to you, with your card's PIN."),
            "portal.home",
        ),
        (
            _l("Transfer or finance"),
            _l("Open a ticket you hold to pass part of it on, or to apply to a bank for financing."),
            "portal.home",
        ),
        (_l("Find tickets"), _l("Search, filter and export what you hold."), "portal.find_tickets"),
        (_l("Your account"), _l("Change your password and your card's PIN."), "portal.account"),
    ),
    "bank": (
        (
            _l("Credit lines"),
            _l("Grant credit lines to the core enterprises that asked."),
            "portal.credit_lines",
        ),
        (
            _l("Work"),
            _l("Review financing applications: approve or reject each with your card."),
            "portal.home",
        ),
        (
            _l("Verify a certificate"),
            _l("Check a ticket's PDF certificate against the ledger before you pay."),
            "portal.verify",
        ),
        (_l("Find tickets"), _l("Search, filter and export your portfolio."), "portal.find_tickets"),
    ),
    "operator": (
        (_l("Desk"), _l("Register members and users and hand out their cards."), "portal.desk"),
        (
            _l("Operations"),
            _l("Watch the network's nodes, the signing gateway and the web service."),
            "portal.operations_console",
        ),
        (_l("Work"), _l("See frozen tickets and the latest activity."), "portal.home"),
        (_l("Verify a certificate"), _l("Check a certificate a member shows you."), "portal.verify"),
    ),
}


def tour_steps() -> list[dict[str, Any]]:
    """The signed-in user's tour when it is open, else []: used by the work page."""
    if not session.get("tour"):
        return []
    me = actor()
    role = member_names().get(me.member_id, {}).get("role", "")
    steps = [{"title": t, "text": x, "href": url_for(e)} for t, x, e in TOURS.get(role, ())]
    if me.role == "admin" and role != "operator":
        steps.append(
            {
                "title": _l("Approvals"),
                "text": _l("As your member's admin, approve your colleagues' new cards."),
                "href": url_for("portal.approvals"),
            }
        )
    return steps


@bp.get("/help")
def help() -> Any:  # noqa: A001 (the page's name)
    states = [
        {"code": str(code), "name": STATUS_TEXT[str(code)], "meaning": text}
        for code, text in STATE_MEANING.items()
    ]
    return render_template("portal/help.html", states=states, terms=TERMS, signed_in=actor() is not None)


@bp.post("/help/tour")
def tour() -> Any:
    """Open (show=1) or close the tour of the work page."""
    if request.form.get("show") == "1":
        session["tour"] = True
    else:
        session.pop("tour", None)
    return redirect(url_for("portal.home"))
