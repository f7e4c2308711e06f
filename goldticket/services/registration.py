"""Registration of a financing (#21, 中登网). The platform prepares the filing for the bank of an
open financing application (assignor and assignee with their 统一社会信用代码, legal
representative and address from the members' KYC records; the receivable: ticket, invoices,
amount, maturity, term) as a machine-readable JSON file and a PDF; the bank files it with the
registry (goldticket.registry: an adapter, file-based here) and records the registration number
and dates it obtained on the ledger, with the filing's SHA-256. The search before funding shows
every other registration and financing of the same invoices on the ledger. The chaincode
refuses an approval without a current registration."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select

from goldticket import certificates as pdf
from goldticket import domain as d
from goldticket import registry
from goldticket.domain.registration import DEFAULT_TERM_YEARS, default_expiry
from goldticket.store.models import ApplicationRow, Checkpoint, InvoiceNumberRow, TicketRow
from goldticket.store.projection import CHECKPOINT

from . import access, kyc_records
from .certificates.documents import document_signer, member_names
from .context import Actor
from .platform import Platform
from .portal import Portal

OPERATOR = "operator"
KycLookup = Callable[[str], dict[str, Any] | None]


def no_kyc(member_id: str) -> dict[str, Any] | None:
    return None


def kyc_of(portal: Portal) -> KycLookup:
    """The KYC record of a member as the portal keeps it, when the ledger holds its hash."""

    def lookup(member_id: str) -> dict[str, Any] | None:
        return kyc_records.registered_of(portal, member_id)

    return lookup


def _bank_application(platform: Platform, banker: Actor, application_id: str) -> dict[str, Any]:
    return access.require_application_bank(platform, banker, application_id)


def prepare_filing(
    platform: Platform, banker: Actor, application_id: str, kyc: KycLookup = no_kyc
) -> dict[str, Any]:
    """The filing's machine-readable content for the application's bank: the same bytes for
    the same ledger facts (no preparation time inside), so the hash the bank records can be
    checked against it. Raises ForbiddenError (not the application's bank), NotFoundError."""
    application = _bank_application(platform, banker, application_id)
    ticket = access.ticket(platform, application["ticket_id"])
    names = member_names(platform)

    def party(member_id: str) -> dict[str, Any]:
        record = kyc(member_id) or {}
        zh, en = names.get(member_id, (member_id, ""))
        return {
            "member_id": member_id,
            "name": zh,
            "name_en": en,
            "uscc": record.get("uscc", ""),
            "legal_representative": record.get("legal_representative", ""),
            "address": record.get("registered_address", ""),
        }

    invoices = [
        {"number": item["number"], "amount_fen": item["amount_fen"], "sha256": item["sha256"]}
        for item in ticket["invoices"]
    ]
    numbers = "、".join(item["number"] for item in invoices)
    return {
        "schema": registry.FILING_SCHEMA,
        "filing_id": application["id"],
        "kind": "应收账款转让 assignment of receivables",
        "assignor": party(application["holder_org_id"]),
        "assignee": party(application["bank_org_id"]),
        "debtor": party(ticket["issuer_org_id"]),
        "receivable": {
            "description": (
                f"金票 {ticket['id']}（根票 {ticket['root_id']}）项下应收账款 {d.format_fen(application['amount_fen'])} 元，"
                f"基础发票 {numbers}，到期日 {ticket['maturity_date']}"
            ),
            "ticket_id": ticket["id"],
            "root_id": ticket["root_id"],
            "invoices": invoices,
            "amount_fen": application["amount_fen"],
            "currency": "CNY",
            "issue_date": ticket["issue_date"],
            "maturity_date": ticket["maturity_date"],
        },
        "term_years": DEFAULT_TERM_YEARS,
    }


def prepare_portal_filing(portal: Portal, banker: Actor, application_id: str) -> dict[str, Any]:
    """:func:`prepare_filing` with the parties' KYC records from the portal's database."""
    return prepare_filing(portal.platform, banker, application_id, kyc_of(portal))


def filing_json(filing: dict[str, Any]) -> bytes:
    return registry.filing_bytes(filing)


def filing_pdf(platform: Platform, filing: dict[str, Any]) -> bytes:
    """The filing as a PDF (Chinese and English), signed by the platform."""
    receivable = filing["receivable"]

    def shown(role: str, title: str, title_en: str) -> dict[str, str]:
        item = filing[role]
        return {
            "title": title,
            "title_en": title_en,
            "name": f"{item['name']} {item['name_en']} ({item['member_id']})".replace("  ", " "),
            "uscc": item["uscc"] or "—",
            "legal_representative": item["legal_representative"] or "—",
            "address": item["address"] or "—",
        }

    view = {
        "filing_id": filing["filing_id"],
        "prepared_on": platform.today().isoformat(),
        "sha256": registry.filing_sha256(filing),
        "platform_name": member_names(platform).get(OPERATOR, ("", ""))[0],
        "parties": [
            shown("assignor", "出让人", "Assignor (transferor)"),
            shown("assignee", "受让人", "Assignee (the bank)"),
        ],
        "description": receivable["description"],
        "ticket_id": receivable["ticket_id"],
        "root_id": receivable["root_id"],
        "debtor": f"{filing['debtor']['name']} ({filing['debtor']['member_id']})",
        "invoices": "、".join(
            f"{item['number']} (CNY {d.format_fen(item['amount_fen'])})" for item in receivable["invoices"]
        ),
        "amount": d.format_fen(receivable["amount_fen"]),
        "amount_capital": d.chinese_capital(receivable["amount_fen"]),
        "maturity_date": receivable["maturity_date"],
        "term": f"{filing['term_years']} 年 year(s)",
    }
    return document_signer(platform).sign(
        pdf.render_filing(view), reason=f"GoldTicket registration filing {filing['filing_id']}"
    )


def file_with_registry(portal: Portal, banker: Actor, application_id: str) -> registry.FilingReceipt:
    """Hand the filing (JSON and PDF) to the deployment's registry adapter."""
    filing = prepare_portal_filing(portal, banker, application_id)
    adapter = registry.open_registry(portal.settings.registry_path)
    try:
        return adapter.file_filing(
            registry.Filing(application_id, filing, filing_pdf(portal.platform, filing))
        )
    except registry.RegistryError as error:
        raise d.RuleViolationError(str(error)) from None


def registry_answer(portal: Portal, banker: Actor, application_id: str) -> registry.RegistryAnswer | None:
    """The registry's answer to the application's filing, when the bank has placed it."""
    _bank_application(portal.platform, banker, application_id)
    try:
        return registry.open_registry(portal.settings.registry_path).answer(application_id)
    except registry.RegistryError as error:
        raise d.InvalidInputError(str(error)) from None


def record_registration(
    platform: Platform,
    banker: Actor,
    *,
    application_id: str,
    registration_number: str,
    registered_on: dt.date | str,
    pin: str,
    expires_on: dt.date | str | None = None,
    registry_name: str | None = None,
    amends: str | None = None,
    filing_sha256: str | None = None,
    kyc: KycLookup = no_kyc,
) -> dict[str, Any]:
    """The bank records the registration it obtained for its open application, signed by its
    card: ``expires_on`` defaults to the filing's term after ``registered_on``; ``filing_sha256``
    (the file the bank filed) must be the filing prepared for this application (422 otherwise;
    computed when not given). ``amends``: the registration this one replaces."""
    filing = prepare_filing(platform, banker, application_id, kyc)
    prepared = registry.filing_sha256(filing)
    if filing_sha256 is not None and d.require_sha256(filing_sha256, "filing_sha256") != prepared:
        raise d.RuleViolationError(
            "filing_sha256 is not the filing prepared for this application: download the filing again"
        )
    registered = d.parse_date(registered_on, "registered_on")
    if expires_on is None or expires_on == "":
        expires = default_expiry(registered, filing["term_years"])
    else:
        expires = d.parse_date(expires_on, "expires_on")
    request: dict[str, Any] = {
        "application_id": application_id,
        "registration_number": d.require_text(registration_number, "registration_number", 64).strip(),
        "registry": d.require_text(registry_name or d.DEFAULT_REGISTRY, "registry", 100),
        "registered_on": registered.isoformat(),
        "expires_on": expires.isoformat(),
        "filing_sha256": prepared,
        "invoice_numbers": [item["number"] for item in filing["receivable"]["invoices"]],
    }
    if amends:
        request["amends"] = d.require_text(amends, "amends", 64)
    return platform.submit(banker, "RecordRegistration", request, pin=pin).result  # type: ignore[no-any-return]


def record_portal_registration(portal: Portal, banker: Actor, **fields: Any) -> dict[str, Any]:
    """:func:`record_registration` against the filing with the parties' KYC records."""
    return record_registration(portal.platform, banker, kyc=kyc_of(portal), **fields)


def registrations(platform: Platform, actor: Actor, application_id: str) -> dict[str, Any]:
    """The application's registrations and which is current: its holder, its bank and the
    operator only (NotFoundError for anyone else, as for an application that does not exist)."""
    application = platform.lookup("application", d.require_text(application_id, "application_id"))
    if actor.member_id not in (OPERATOR, application["holder_org_id"], application["bank_org_id"]):
        raise d.NotFoundError(f"no application {application_id}")
    return platform.evaluate("GetRegistrations", {"application_id": application["id"]})  # type: ignore[no-any-return]


def search(
    platform: Platform, actor: Actor, invoice_numbers: list[str], exclude: str | None = None
) -> dict[str, Any]:
    """Every registration and financing on the ledger of any of ``invoice_numbers`` (banks and
    the operator)."""
    member = platform.evaluate("GetMember", {"id": actor.member_id})
    if member["role"] not in ("bank", "operator"):
        raise d.ForbiddenError("only banks search registrations")
    request: dict[str, Any] = {"invoice_numbers": invoice_numbers}
    if exclude:
        request["exclude_application_id"] = exclude
    indexed = _indexed_financings(platform, invoice_numbers, exclude)
    if indexed is None:  # the read model is behind the ledger: the ledger reads every application
        return platform.evaluate("SearchRegistrations", request)  # type: ignore[no-any-return]
    found: dict[str, Any] = platform.evaluate("SearchRegistrations", {**request, "financings": False})
    return {**found, "financings": indexed}


def _indexed_financings(
    platform: Platform, invoice_numbers: list[str], exclude: str | None
) -> list[dict[str, Any]] | None:
    """The financing applications of tickets carrying any of ``invoice_numbers`` (but
    ``exclude``), as SearchRegistrations lists them, from the read model through its index of
    invoice numbers (rm_invoice_numbers); None unless the read model has projected every block
    the ledger has (a financing it has not seen yet must not go unseen)."""
    if not isinstance(invoice_numbers, list) or not all(isinstance(item, str) for item in invoice_numbers):
        return None  # the chaincode says what is wrong with them
    wanted = sorted({d.normalise_invoice_number(item) for item in invoice_numbers})
    height = platform.ledger.height()
    with platform.database().session() as session:
        checkpoint = session.get(Checkpoint, CHECKPOINT)
        if checkpoint is None or checkpoint.next_block < height:
            return None
        rows = session.execute(financings_query(wanted)).all()
    found: dict[str, dict[str, Any]] = {}
    for doc, root_id, number in rows:
        application = json.loads(doc)
        if application["id"] == exclude:
            continue
        item = found.setdefault(
            application["id"],
            {
                "application_id": application["id"],
                "ticket_id": application["ticket_id"],
                "root_id": root_id,
                "bank_org_id": application["bank_org_id"],
                "amount_fen": application["amount_fen"],
                "status": application["status"],
                "invoice_numbers": [],
            },
        )
        item["invoice_numbers"].append(number)
    for item in found.values():
        item["invoice_numbers"] = sorted(set(item["invoice_numbers"]))
    return [found[key] for key in sorted(found)]


def financings_query(numbers: list[str]) -> Select[str, str, str]:
    """Applications (doc, root id, matched number) of the tickets with any of ``numbers``: by the
    index of invoice numbers, then the applications' index of ticket ids."""
    return (
        select(ApplicationRow.doc, TicketRow.root_id, InvoiceNumberRow.number)
        .join(ApplicationRow, ApplicationRow.ticket_id == InvoiceNumberRow.ticket_id)
        .join(TicketRow, TicketRow.id == InvoiceNumberRow.ticket_id)
        .where(InvoiceNumberRow.number.in_(numbers))
        .order_by(ApplicationRow.id, InvoiceNumberRow.number)
    )


def search_before_funding(platform: Platform, banker: Actor, application_id: str) -> dict[str, Any]:
    """For the application's bank: its own registrations, and every other registration and
    financing of the invoices under the application's ticket (on any ticket)."""
    application = _bank_application(platform, banker, application_id)
    ticket = access.ticket(platform, application["ticket_id"])
    numbers = [item["number"] for item in ticket["invoices"]]
    found = search(platform, banker, numbers, exclude=application["id"])
    own = platform.evaluate("GetRegistrations", {"application_id": application["id"]})
    return {**found, "application_id": application["id"], "own": own}
