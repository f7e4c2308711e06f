"""The payment file of a settlement (#21): the core enterprise's instruction to its bank to pay
each holder of a settled root ticket, as ISO 20022 pain.001.001.09 (goldticket.payments), to
the settlement accounts registered with the members' KYC records (services.desk). Only the
issuer, who pays, may have it; every payee needs a registered account (the file names no
account the member did not register)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from goldticket import domain as d
from goldticket import payments

from . import kyc_records
from .context import Actor
from .portal import Portal


def registered_account(portal: Portal, member_id: str) -> payments.Account | None:
    """The member's registered settlement account: its KYC record, if the ledger holds its hash."""
    kyc = kyc_records.registered_of(portal, member_id)  # a confirmed change of account included
    if kyc is None:
        return None
    return payments.Account(kyc["account_name"], kyc["account_number"], kyc["bank_name"], kyc["cnaps_code"])


@dataclasses.dataclass(frozen=True)
class PaymentInstructions:
    """What a settlement's payment file instructs the issuer's bank: from the debtor's account,
    one credit transfer per piece the statement pays, on the statement's settlement date."""

    statement_id: str
    root_id: str
    execution_date: dt.date
    debtor: payments.Account
    transfers: list[payments.CreditTransfer]


def payment_instructions(
    portal: Portal, actor: Actor, root_id: str, statement_id: str
) -> PaymentInstructions:
    """The credit transfers paying every piece the statement ``statement_id`` of ``root_id``
    pays, to the registered settlement accounts. Raises NotFoundError (no such statement, or
    not the issuer's), RuleViolationError (a party without a registered settlement account)."""
    platform = portal.platform
    root = platform.lookup("ticket", d.require_text(root_id, "root_id"))
    if root["issuer_org_id"] != actor.member_id:
        raise d.NotFoundError(f"no payment file of ticket {root_id} for you: only its issuer pays it")
    statement: dict[str, Any] = platform.evaluate(
        "GetStatement", {"root_id": root_id, "statement_id": d.require_text(statement_id, "statement_id")}
    )
    paid = statement.get("paid") or []
    parties = [actor.member_id, *dict.fromkeys(payment["holder_org_id"] for payment in paid)]
    accounts = {member_id: registered_account(portal, member_id) for member_id in parties}
    missing = [member_id for member_id, account in accounts.items() if account is None]
    if missing:
        raise d.RuleViolationError(
            f"no registered settlement account for {', '.join(missing)}: the desk registers it with the member's KYC"
        )
    transfers = [
        payments.CreditTransfer(
            end_to_end_id=payment["ticket_id"],
            amount_fen=int(payment["amount_fen"]),
            creditor=accounts[payment["holder_org_id"]],  # type: ignore[arg-type]
            remittance=f"GoldTicket {payment['ticket_id']} root {root_id} due {root['maturity_date']}",
        )
        for payment in paid
    ]
    return PaymentInstructions(
        statement_id=str(statement["statement_id"]),
        root_id=root_id,
        execution_date=d.parse_date(statement["settled_on"], "settled_on"),
        debtor=accounts[actor.member_id],  # type: ignore[arg-type]
        transfers=transfers,
    )


def statement_payment_file(
    portal: Portal, actor: Actor, root_id: str, statement_id: str
) -> tuple[str, bytes]:
    """(file name, pain.001 XML) of :func:`payment_instructions`; the same errors, and
    RuleViolationError for an account the schema refuses."""
    made = payment_instructions(portal, actor, root_id, statement_id)
    try:
        xml = payments.credit_transfer_initiation(
            message_id=made.statement_id,
            created_at=dt.datetime.now(dt.UTC),
            execution_date=made.execution_date,
            debtor=made.debtor,
            transfers=made.transfers,
        )
    except payments.PaymentFileError as error:
        raise d.RuleViolationError(str(error)) from None
    return f"payment-{made.statement_id}.xml", xml
