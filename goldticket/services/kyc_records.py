"""Where a member's registered KYC record is read (#21): the record in the portal's database
whose SHA-256 the member's ledger record keeps (``kyc_sha256``). That is the one registered at
onboarding (``member_kyc``) or, after a change of settlement account the operator confirmed,
the one its admin asked for (``kyc_records``); a record whose hash the ledger does not keep is
never read as registered. Imports no use case."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from goldticket import domain as d
from goldticket.store.models import KycRecord, MemberKyc

from .portal import Portal


def registered(portal: Portal, member: dict[str, Any]) -> dict[str, Any] | None:
    """The KYC record of ``member`` (its ledger record) whose hash the ledger keeps, or None."""
    wanted = member.get("kyc_sha256")
    if not wanted:
        return None
    with portal.database.session() as session:
        row = session.get(MemberKyc, member["id"])
        if row is not None and row.sha256 == wanted:
            return json.loads(row.doc)  # type: ignore[no-any-return]
        asked = session.get(KycRecord, wanted)
        if asked is not None and asked.member_id == member["id"]:
            return json.loads(asked.doc)  # type: ignore[no-any-return]
    return None


def registered_of(portal: Portal, member_id: str) -> dict[str, Any] | None:
    return registered(portal, portal.platform.evaluate("GetMember", {"id": member_id}))


def asked(portal: Portal, member_id: str, sha256: str) -> dict[str, Any] | None:
    """The record ``member_id``'s admin asked to register under ``sha256``, or None."""
    with portal.database.session() as session:
        row = session.get(KycRecord, sha256)
        if row is None or row.member_id != member_id:
            return None
        return json.loads(row.doc)  # type: ignore[no-any-return]


def keep_asked(portal: Portal, member_id: str, kyc: d.MemberKyc, requested_by: str) -> None:
    """Keep a checked record an admin asks to register (before the ledger names its hash)."""
    with portal.database.session(immediate=True) as session:
        if session.get(KycRecord, kyc.sha256) is None:
            session.add(
                KycRecord(
                    sha256=kyc.sha256,
                    member_id=member_id,
                    doc=json.dumps(kyc.to_dict(), ensure_ascii=False, sort_keys=True),
                    requested_by=requested_by,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )


def make_current(portal: Portal, member_id: str, doc: dict[str, Any], sha256: str) -> None:
    """The member's record (``member_kyc``) becomes ``doc``, once the ledger keeps its hash."""
    now = dt.datetime.now(dt.UTC)
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True)
    with portal.database.session(immediate=True) as session:
        row = session.get(MemberKyc, member_id)
        if row is None:
            session.add(MemberKyc(member_id=member_id, doc=text, sha256=sha256, updated_at=now))
        else:
            row.doc, row.sha256, row.updated_at = text, sha256, now
