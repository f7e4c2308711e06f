"""A certificate verdict's reasons in the page's language. The certificate service says what
changed and when in English sentences of a few fixed shapes (the API's words); each shape is
re-said here with its times, ids and states kept, and any other sentence stays in English."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext

from .formatting import date, status_text
from .service_messages import N_

# services.certificates.ACTIONS' phrases
ACTIONS = {
    "accepted": N_("accepted"),
    "offered for transfer": N_("offered for transfer"),
    "transferred (the ticket was split)": N_("transferred (the ticket was split)"),
    "transfer offer rejected": N_("transfer offer rejected"),
    "transfer offer cancelled": N_("transfer offer cancelled"),
    "offered to a bank for financing": N_("offered to a bank for financing"),
    "financed (the ticket was split)": N_("financed (the ticket was split)"),
    "financing rejected": N_("financing rejected"),
    "settled at maturity": N_("settled at maturity"),
    "frozen by the operator": N_("frozen by the operator"),
    "unfrozen by the operator": N_("unfrozen by the operator"),
}
NOT_A_PDF = "the file is not a PDF"  # goldticket.certificates.verify's reason
STATIC = frozenset(
    (
        N_("the file is not a PDF"),
        N_("the PDF or its signature cannot be read"),
        N_("the file's SHA-256 is not recorded on the ledger"),
        N_("no certificate with this id was issued by the platform"),
        N_("the signed bytes were changed (digest mismatch)"),
        N_("the signature does not verify"),
        N_("the PDF is signed by another key, not the platform's"),
        N_("the signing certificate does not chain to the operator's CA"),
        N_("bytes were added after the signature"),
        N_("the ticket is no longer held by the holder the certificate states"),
        N_("the certificate id or ticket stated in the PDF is not the ledger record's"),
    )
)
Name = Callable[[str], str]


def _time(text: str) -> str:
    """The service's ``2027-04-30 14:03:05 (UTC+8)`` with the page's one date format."""
    found = re.match(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) \(UTC\+8\)$", text)
    return f"{date(found[1])} {found[2]} (UTC+8)" if found else text


PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str], Name], str]]] = [
    (
        re.compile(r"^(?P<time>.+?): (?P<action>.+); status (?P<status>\S+)$"),
        lambda m, name: gettext(
            "%(time)s: %(action)s; now %(status)s",
            time=_time(m["time"]),
            action=gettext(ACTIONS[m["action"]]) if m["action"] in ACTIONS else m["action"],
            status=status_text(m["status"]),
        ),
    ),
    (
        re.compile(r"^the ticket is now (?P<now>[A-Z_]+), the certificate states (?P<then>[A-Z_]+)$"),
        lambda m, name: gettext(
            "The ticket is now %(now)s; the certificate states %(then)s.",
            now=status_text(m["now"]),
            then=status_text(m["then"]),
        ),
    ),
    (
        re.compile(r"^split into (?P<n>\d+) pieces$"),
        lambda m, name: gettext("Split into %(n)s pieces.", n=m["n"]),
    ),
    (
        re.compile(r"^the file is larger than (?P<kb>\d+) KB$"),
        lambda m, name: gettext("The file is larger than %(kb)s KB.", kb=m["kb"]),
    ),
    (
        re.compile(r"^the PDF carries (?P<n>\d+) signatures, not the platform's one$"),
        lambda m, name: gettext("The PDF carries %(n)s signatures, not the platform's one.", n=m["n"]),
    ),
]  # fmt: skip


def reason_text(reason: str, name: Name) -> str:
    """One reason of a verdict in the page's language; ``name`` shows a member id."""
    if reason in STATIC:
        return gettext(reason)
    for pattern, say in PATTERNS:
        match = pattern.match(reason)
        if match:
            return say(match, name)
    return reason
