"""The services' refusals as the portal shows them, in the page's language: a headline by the
error's code, then the service's sentence. The services speak English (the API's messages); a
sentence listed here is shown translated, with its ticket or member ids kept, and any other
keeps its English words after the translated headline."""

from __future__ import annotations

import re

from flask_babel import get_locale, gettext

from goldticket.services.errors import DownloadLimitError
from goldticket.signing.errors import WrongPinError

from .formatting import date


def N_(text: str) -> str:  # noqa: N802  (marks a message for the catalog, translated later)
    return text


STATIC = frozenset(
    (
        N_("a core enterprise cannot issue a ticket to itself"),
        N_("a member cannot apply to itself for financing"),
        N_("a bank cannot grant a credit line to itself"),
        N_("a card PIN is 6 to 12 digits"),
        N_("a password is 10 to 256 characters"),
        N_("an invoice is listed twice"),
        N_("amount_fen is more than the ticket holds"),
        N_("cannot transfer a ticket to its own holder"),
        N_("credit line exceeded: the core enterprise has no credit line"),
        N_("interest and fee exceed the amount"),
        N_("invoice sha256 must be 64 lowercase hex digits"),
        N_("maturity date must be at least one day after the issue date"),
        N_("only an admin of the operator may do this"),
        N_("only the operator may do this"),
        N_("the invoice file is empty"),
        N_("the invoice file is larger than 10 MB"),
        N_("value date is before the ticket was issued"),
        N_("value date is in the past"),
        N_("value date must be before the maturity date"),
        N_("the ticket changed while this request was in flight; nothing was written, try again"),
        N_("the account is disabled: its user's last card was eliminated"),
        N_("the desk does not act on its own card: another operator admin does"),
        N_("the desk does not act on its own account: another operator admin does"),
        N_("email_to: not an e-mail address"),
        N_("email_kinds need at least one address in email_to"),
        N_("webhook_kinds need a webhook_url"),
        N_("webhook_url must be an https URL"),
        N_("webhook_url must be an https or http URL"),
        N_("webhook_url must name a host, with no user or password in it"),
        N_("at most 5 e-mail addresses"),
        N_("set a webhook_url first"),
        N_("the maker of an operation does not review it: a second user approves"),
        N_("only an admin of the member changes its settlement account"),
        N_("this is the settlement account already registered"),
        N_("only the operator or the member's own admin closes its account change"),
    )
)
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^the change (?P<id>\S+) waits for the operator: it is confirmed or withdrawn first$"),
     N_("The account change %(id)s waits for the operator: it is confirmed or withdrawn first.")),
    (re.compile(r"^account change (?P<id>\S+) is (?P<status>[A-Z]+), not PENDING$"),
     N_("The account change %(id)s is no longer waiting.")),
    (re.compile(r"^no ticket (?P<id>\S+)$"), N_("There is no ticket %(id)s.")),
    (
        re.compile(r"^application (?P<id>\S+) has no current registration.*$"),
        N_("Financing application %(id)s has no current registration (中登网): record it before approving."),
    ),
    (re.compile(r"^no member (?P<id>\S+)$"), N_("There is no member %(id)s.")),
    (re.compile(r"^no (?P<what>offer|application) (?P<id>\S+)$"), N_("There is no such item: %(id)s.")),
    (re.compile(r"^only the holder of ticket (?P<id>\S+) may do this$"), N_("Only the holder of ticket %(id)s may do this.")),
    (re.compile(r"^only the issuer of ticket (?P<id>\S+) may do this$"), N_("Only the issuer of ticket %(id)s may do this.")),
    (re.compile(r"^only a (?P<roles>[a-z ]+) member may do this$"), N_("Only a member of role %(roles)s may do this.")),
    (re.compile(r"^not an amount in yuan: (?P<text>.*)$"), N_("Not an amount in yuan: %(text)s.")),
    (re.compile(r"^(?P<field>[a-z_]+) must be at least 1$"), N_("The amount must be at least 0.01 yuan.")),
    (re.compile(r"^offer (?P<id>\S+) is already (?P<status>[a-z]+)$"), N_("Offer %(id)s is already closed (%(status)s).")),
    (re.compile(r"^maturity date is out of range: at most (?P<months>\d+) months after issue \((?P<latest>[0-9-]+)\)$"),
     N_("The maturity date is out of range: at most %(months)s months after issue (%(latest)s).")),
    (re.compile(r"^a payment term over (?P<months>\d+) months needs a stated reason \(term_reason\), recorded with the ticket: maturity after (?P<latest>[0-9-]+)$"),
     N_("A payment term over %(months)s months needs a stated reason, recorded with the ticket (the maturity is after %(latest)s).")),
    (re.compile(r"^term_reason (?P<rest>.*)$"), N_("The reason for a long term must be plain text of at most 500 characters.")),
    (re.compile(r"^uscc (?P<code>.*) is not a valid unified social credit code: .*$"),
     N_("%(code)s is not a valid unified social credit code (check its 18 characters).")),
    (re.compile(r"^the settlement account's name \((?P<account>.+)\) must be the member's name \((?P<name>.+)\)$"),
     N_("The settlement account must be in the member's own name (%(name)s), not %(account)s.")),
    (re.compile(r"^account_number is 8 to 32 digits$"), N_("The account number is 8 to 32 digits.")),
    (re.compile(r"^cnaps_code is the bank's 12-digit CNAPS code.*$"), N_("The CNAPS code is the bank's 12 digits.")),
    (re.compile(r"^(?P<field>legal_representative|registered_address|account_name|bank_name) is text of 1 to (?P<limit>\d+) characters$"),
     N_("Fill in every know-your-customer field (at most %(limit)s characters each), or none.")),
    (re.compile(r"^no registered settlement account for (?P<members>.+): the desk registers it with the member's KYC$"),
     N_("No settlement account is registered for %(members)s: the operator desk registers it with the member's identity details.")),
    (re.compile(r"^nothing to pay: .*$"), N_("This settlement pays no piece: there is no payment file.")),
    (re.compile(r"^credit line exceeded(?P<rest>.*)$"), N_("The core enterprise's credit line is not enough for this ticket.")),
    (re.compile(r"^rate above the holder's bound: (?P<rate>\S+ %) a year asked, the holder accepts at most (?P<bound>\S+ %)$"),
     N_("The rate %(rate)s is above the highest rate the holder accepts, %(bound)s.")),
    (re.compile(r"^invoice (?P<number>.+) belongs to another core enterprise: .*$"),
     N_("Invoice %(number)s was first used by another core enterprise; it cannot back your tickets.")),
    (re.compile(r"^invoice (?P<number>.+) does not match the invoice recorded for that document \((?P<recorded>.+), (?P<amount>[0-9,.]+)\)$"),
     N_("Invoice %(number)s does not match the invoice recorded for that document (%(recorded)s, %(amount)s).")),
    (re.compile(r"^invoice (?P<number>.+) does not match the invoice recorded under that number$"),
     N_("Invoice %(number)s is already recorded with another document.")),
    (re.compile(r"^invoice already used: the invoices can back (?P<left>[0-9,.]+) more, not (?P<asked>[0-9,.]+)$"),
     N_("The invoice is already used: it can back %(left)s more, not %(asked)s.")),
    (re.compile(r"^not yet mature: ticket (?P<id>\S+) matures on (?P<day>[0-9-]+)$"),
     N_("Ticket %(id)s is not yet mature: it matures on %(day)s.")),
    (re.compile(r"^ticket (?P<id>\S+) has reached maturity and can only be settled$"),
     N_("Ticket %(id)s has reached maturity and can only be settled.")),
    (re.compile(r"^credit line (?P<id>\S+) is (?P<status>offered|declined), not active$"),
     N_("Credit line %(id)s is not active (%(status)s): only an accepted line is drawn.")),
]  # fmt: skip


DATES = ("day", "latest")  # ISO dates in a sentence, shown in the page's date format
CJK = re.compile(r"[\u4e00-\u9fff]")


def translate(message: str) -> str:
    """The service's sentence in the page's language, where it is one we know."""
    if message in STATIC:
        return gettext(message)
    for pattern, shown in PATTERNS:
        match = pattern.match(message)
        if match:
            found = {k: date(v) if k in DATES else v for k, v in match.groupdict().items()}
            return gettext(shown, **found)
    return message


def _wrong_password(error: Exception) -> str:
    tries_left = getattr(error, "tries_left", None)
    if tries_left is None:
        return gettext("Wrong username or password.")
    if tries_left == 0:
        return gettext("Wrong username or password. Further logins must now wait a while.")
    return gettext("Wrong username or password: %(n)d tries left before logins must wait.", n=tries_left)


def sentence(error: Exception) -> str:
    """A typed error of the services as a sentence a person can act on, in the page's language."""
    code = getattr(error, "code", "")
    detail = translate(str(error))
    if isinstance(error, WrongPinError):
        if error.tries_left == 0:
            return gettext("Wrong PIN: your card is now locked; go to the operator desk to unlock it.")
        if error.tries_left is not None:
            return gettext("Wrong PIN: %(n)d tries left before the card locks.", n=error.tries_left)
        return gettext("Wrong PIN.")
    if isinstance(error, DownloadLimitError):
        return gettext(
            "You have downloaded as many certificates as allowed this hour; try again in %(seconds)d seconds.",
            seconds=error.retry_after or 60,
        )
    headline = {
        "card_locked": gettext(
            "Your card is locked after too many wrong PINs: go to the operator desk to unlock it."
        ),
        "card_revoked": gettext("Your card is suspended or eliminated: go to the operator desk."),
        "forbidden": gettext("You may not do this."),
        "not_found": gettext("Not found."),
        "rule_violation": gettext("The rules do not allow this."),
        "conflict": gettext("This changed meanwhile."),
        "invalid_input": gettext("Please check what you entered."),
        "unauthenticated": _wrong_password(error),
        "rate_limited": gettext(
            "Too many failed logins; try again in %(seconds)d seconds.",
            seconds=getattr(error, "retry_after", None) or 60,
        ),
    }.get(
        code,
        gettext("The ledger or the signing service is unavailable; nothing was signed. Try again shortly."),
    )
    if code in ("card_locked", "card_revoked", "unauthenticated", "rate_limited"):
        return headline
    if str(get_locale() or "zh") != "en" and not CJK.search(detail):
        return headline  # a sentence of the services not in the catalog: never English on a zh page
    return f"{headline} {detail}"
