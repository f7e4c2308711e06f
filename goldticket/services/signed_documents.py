"""Documents signed by a member's own card (#21): the issuer's payment commitment (付款承诺函) at
issue. The platform renders the PDF (the certificate machinery), the acting user's card signs it
as PAdES through the signing gateway (which reads the document's terms and its signed bytes'
digest itself and shows them before signing), and the SHA-256 of the signed PDF goes into the
very transaction that moves the ticket, signed by the same card. The signed PDF is kept in the
data directory under its SHA-256; the ledger's record is what names it.

Anyone in the ticket's path (the members goldticket.domain.visibility lets see a piece of its
tree, and the operator) downloads it and verifies an upload: valid only when its SHA-256 is
the ledger's and its one signature is intact, valid, covers the whole file and is made by a card
of the signing member, certified by that member's organisation CA.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

from goldticket import certificates as pdf
from goldticket import domain as d
from goldticket.domain.visibility import visible_pieces
from goldticket.signing.documents import SIGN_DOCUMENT, byte_range_digest, read_terms

from . import access
from .context import OPERATOR, Actor
from .platform import Platform

PAYMENT_COMMITMENT = "payment_commitment"
ASSIGNMENT_AGREEMENT = "assignment_agreement"
ASSIGNMENT_NOTICE = "assignment_notice"
FINANCING_ASSIGNMENT = "financing_assignment"
# the document kinds a ticket names, by the field of its root that holds the SHA-256
DOCUMENT_FIELDS = {PAYMENT_COMMITMENT: "commitment_sha256"}
# the kinds an offer names (its fields)
OFFER_KINDS = (ASSIGNMENT_AGREEMENT, ASSIGNMENT_NOTICE)
FIELD_NAMES = {
    PAYMENT_COMMITMENT: "GoldTicketIssuer",
    ASSIGNMENT_AGREEMENT: "GoldTicketAssignor",
    ASSIGNMENT_NOTICE: "GoldTicketAssignorNotice",
    FINANCING_ASSIGNMENT: "GoldTicketFinancingAssignor",
}
COUNTERSIGNATURE = "GoldTicketAssignee"
BANK_COUNTERSIGNATURE = "GoldTicketFinancingAssignee"
FILENAMES = {
    PAYMENT_COMMITMENT: "commitment",
    ASSIGNMENT_AGREEMENT: "agreement",
    ASSIGNMENT_NOTICE: "notice",
    FINANCING_ASSIGNMENT: "financing-assignment",
}


def _names(platform: Platform, *member_ids: str) -> dict[str, tuple[str, str]]:
    """The Chinese and English names of ``member_ids`` and the operator, read as the checks
    before a write read (Platform.lookup: no signed query before the card signs)."""
    names = {}
    for member_id in {*member_ids, OPERATOR}:
        try:
            member = platform.lookup("member", member_id)
        except d.NotFoundError:
            continue  # the chaincode refuses the write naming it
        names[member_id] = (str(member.get("name") or member_id), str(member.get("name_en") or ""))
    return names


def _name_of(names: dict[str, tuple[str, str]], member_id: str) -> str:
    zh, en = names.get(member_id, (member_id, ""))
    return f"{zh} {en} ({member_id})".replace("  ", " ")


def documents_dir(platform: Platform) -> Path:
    directory = platform.settings.data_dir / "documents"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _keep(platform: Platform, data: bytes) -> str:
    """Keep a signed document under its SHA-256 (written whole, then renamed)."""
    digest = hashlib.sha256(data).hexdigest()
    path = documents_dir(platform) / f"{digest}.pdf"
    temporary = path.with_name(f".{digest}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return digest


def card_sign(
    platform: Platform,
    actor: Actor,
    *,
    pin: str,
    rendered: bytes,
    terms: dict[str, Any],
    reason: str,
    field_name: str | None = None,
) -> tuple[bytes, str]:
    """``rendered`` signed by ``actor``'s card through the signing gateway, stating ``terms``
    (the intent the gateway shows: the terms and the signed bytes' digest); kept, and returned
    with its SHA-256. Raises a SigningError (a refusal, a wrong PIN, a locked card)."""
    serial = platform.cards.registry.active_card(actor.username).serial
    identity = platform.signing.identity(serial)
    ca_pem = platform.keystore.trusted().get(identity.msp_id)
    if ca_pem is None:
        raise d.StateConflictError(f"the platform does not trust {identity.msp_id}'s CA")
    if platform.rehearsing:  # before the PIN: rendered (it must be), not signed or kept
        return rendered, hashlib.sha256(rendered).hexdigest()

    def sign(signed_attributes: bytes, prepared: bytes) -> bytes:
        # what the user is shown and the card signs: the document's own terms and digest
        shown = {**read_terms(prepared), "digest": byte_range_digest(prepared).hex()}
        return platform.signer(actor, pin, SIGN_DOCUMENT, shown).sign_document(signed_attributes, prepared)

    signed = pdf.sign_with_card(
        rendered,
        terms,
        certificate_pem=identity.certificate_pem,
        ca_pem=ca_pem,
        sign=sign,
        field_name=field_name or FIELD_NAMES[terms["kind"]],
        reason=reason,
    )
    return signed, _keep(platform, signed)


def payment_commitment(
    platform: Platform,
    clerk: Actor,
    *,
    pin: str,
    payee_org_id: str,
    amount_fen: int,
    maturity_date: str,
    invoices: list[dict[str, Any]],
) -> str:
    """The issuer's payment commitment (付款承诺函) for a ticket about to be issued, signed by
    ``clerk``'s card; its SHA-256, which the issue's transaction records with the ticket."""
    names = _names(platform, clerk.member_id, payee_org_id)
    numbers = [str(invoice.get("number")) for invoice in invoices]
    dated = platform.today().isoformat()
    terms = {
        "kind": PAYMENT_COMMITMENT,
        "document_id": "PC" + secrets.token_hex(8).upper(),
        "signer_org_id": clerk.member_id,
        "parties": {"payer": clerk.member_id, "payee": payee_org_id},
        "amount_fen": amount_fen,
        "maturity_date": maturity_date,
        "invoices": numbers,
        "dated": dated,
    }
    view = {
        "document_id": terms["document_id"],
        "dated": dated,
        "payer": _name_of(names, clerk.member_id),
        "payee": _name_of(names, payee_org_id),
        "amount": d.format_fen(amount_fen),
        "amount_capital": d.chinese_capital(amount_fen),
        "maturity_date": maturity_date,
        "invoices": ", ".join(numbers),
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
    }
    _, digest = card_sign(
        platform,
        clerk,
        pin=pin,
        rendered=pdf.render_commitment(view),
        terms=terms,
        reason=f"GoldTicket payment commitment {terms['document_id']}",
    )
    return digest


AGREEMENT_TEXT = [
    (
        "转让方将上述债权（金票）按上述金额转让予受让方；转让自受让方以其证书卡会签本协议并在账本上接受转让之时生效，"
        "受让方自该时起享有对债务人的全部权利。",
        "The assignor assigns the receivable above (the GoldTicket) to the assignee for the amount above; "
        "the assignment takes effect when the assignee countersigns this agreement with its card and accepts "
        "the transfer on the ledger, from which time the assignee holds every right against the debtor.",
    ),
    (
        "转让方保证该债权真实、合法、未设定其他权利负担。",
        "The assignor warrants that the receivable is genuine, lawful and free of any other encumbrance.",
    ),
]
NOTICE_TEXT = [
    (
        "依据《中华人民共和国民法典》第五百四十六条，转让方特此通知债务人：上述债权已转让予受让方，"
        "自转让在账本上生效之日起，请向受让方（届时的持票方）履行付款义务。",
        "Under Article 546 of the Civil Code of the PRC, the assignor hereby notifies the debtor that the "
        "receivable above is assigned to the assignee; from the day the transfer takes effect on the ledger, "
        "please pay the assignee (the holder at that date).",
    ),
]


def transfer_documents(
    platform: Platform, holder: Actor, *, pin: str, ticket: dict[str, Any], to_org_id: str, amount_fen: int
) -> dict[str, str]:
    """The assignment agreement (债权转让协议) and the notice to the debtor (债权转让通知) of an
    offer about to be made, each signed by the transferor's (``holder``'s) card; their SHA-256
    (``agreement_sha256``, ``notice_sha256``), which the offer's transaction records."""
    names = _names(platform, holder.member_id, to_org_id, ticket["issuer_org_id"])
    dated = platform.today().isoformat()
    hashes = {}
    for kind, prefix, field, title, title_en, paragraphs in (
        (
            ASSIGNMENT_AGREEMENT,
            "TA",
            "agreement_sha256",
            "债权转让协议",
            "Assignment Agreement",
            AGREEMENT_TEXT,
        ),
        (
            ASSIGNMENT_NOTICE,
            "TN",
            "notice_sha256",
            "债权转让通知",
            "Notice of Assignment to the Debtor",
            NOTICE_TEXT,
        ),
    ):
        terms = {
            "kind": kind,
            "document_id": prefix + secrets.token_hex(8).upper(),
            "signer_org_id": holder.member_id,
            "parties": {
                "assignor": holder.member_id,
                "assignee": to_org_id,
                "debtor": ticket["issuer_org_id"],
            },
            "amount_fen": amount_fen,
            "ticket_id": ticket["id"],
            "root_id": ticket["root_id"],
            "maturity_date": ticket["maturity_date"],
            "dated": dated,
        }
        view = {
            "title": title,
            "title_en": title_en,
            "document_id": terms["document_id"],
            "dated": dated,
            "assignor": _name_of(names, holder.member_id),
            "assignee": _name_of(names, to_org_id),
            "debtor": _name_of(names, ticket["issuer_org_id"]),
            "ticket_id": ticket["id"],
            "root_id": ticket["root_id"],
            "amount": d.format_fen(amount_fen),
            "amount_capital": d.chinese_capital(amount_fen),
            "maturity_date": ticket["maturity_date"],
            "offer_ref": "随本转让要约记录于账本 recorded on the ledger with this transfer offer",
            "paragraphs": paragraphs,
            "footer": "本文件由转让方经办人以其证书卡作出电子签名（PAdES），其 SHA-256 与转让要约一并记录于账本。"
            + (
                "受让方接受转让时以其证书卡会签。"
                if kind == ASSIGNMENT_AGREEMENT
                else "转让生效时记录为已送达债务人。"
            ),
            "footer_en": "Signed (PAdES) by the assignor's clerk with the clerk's own card; its SHA-256 is recorded on "
            "the ledger with the transfer offer. "
            + (
                "The assignee countersigns it with its card when it accepts."
                if kind == ASSIGNMENT_AGREEMENT
                else "Recorded as delivered to the debtor when the transfer takes effect."
            ),
            "platform_name": names.get(OPERATOR, ("", ""))[0],
            "platform_name_en": names.get(OPERATOR, ("", ""))[1],
        }
        _, hashes[field] = card_sign(
            platform,
            holder,
            pin=pin,
            rendered=pdf.render_assignment(view),
            terms=terms,
            reason=f"GoldTicket {title_en.lower()} {terms['document_id']}",
        )
    return hashes


RECOURSE_TEXT = {
    True: (
        "有追索：债务人到期未足额付款的，受让银行有权向转让方（及其前手）追索未付金额。",
        "With recourse (有追索): if the debtor does not pay in full at maturity, the bank may demand the "
        "unpaid amount of the assignor (and of those before it in the ticket's path).",
    ),
    False: (
        "无追索：债务人到期未付款的风险由受让银行承担，银行不得向转让方追索（转让方对债权真实性的保证除外）。",
        "Without recourse (无追索): the bank bears the risk that the debtor does not pay at maturity and may not "
        "demand payment of the assignor (save under the assignor's warranty that the receivable is genuine).",
    ),
}


def financing_assignment(
    platform: Platform,
    holder: Actor,
    *,
    pin: str,
    ticket: dict[str, Any],
    bank_org_id: str,
    amount_fen: int,
    max_annual_rate_bp: int,
    recourse: bool | None,
) -> str:
    """The assignment of the receivable to the bank with its recourse terms, for a financing
    application about to be made, signed by the holder's card; its SHA-256
    (``assignment_sha256``), which the application's transaction records."""
    names = _names(platform, holder.member_id, bank_org_id, ticket["issuer_org_id"])
    dated = platform.today().isoformat()
    with_recourse = bool(recourse)
    terms = {
        "kind": FINANCING_ASSIGNMENT,
        "document_id": "FS" + secrets.token_hex(8).upper(),
        "signer_org_id": holder.member_id,
        "parties": {"assignor": holder.member_id, "assignee": bank_org_id, "debtor": ticket["issuer_org_id"]},
        "amount_fen": amount_fen,
        "ticket_id": ticket["id"],
        "root_id": ticket["root_id"],
        "maturity_date": ticket["maturity_date"],
        "max_annual_rate_bp": max_annual_rate_bp,
        "recourse": with_recourse,
        "dated": dated,
    }
    view = {
        "title": "应收账款融资转让协议",
        "title_en": "Assignment to the Bank for Financing",
        "document_id": terms["document_id"],
        "dated": dated,
        "assignor": _name_of(names, holder.member_id),
        "assignee": _name_of(names, bank_org_id),
        "debtor": _name_of(names, ticket["issuer_org_id"]),
        "ticket_id": ticket["id"],
        "root_id": ticket["root_id"],
        "amount": d.format_fen(amount_fen),
        "amount_capital": d.chinese_capital(amount_fen),
        "maturity_date": ticket["maturity_date"],
        "offer_ref": f"融资申请，年利率不超过 {max_annual_rate_bp / 100:.2f}% "
        f"financing application, annual rate at most {max_annual_rate_bp / 100:.2f}%",
        "paragraphs": [
            (
                "转让方将上述债权（金票）按上述金额转让予受让银行以取得融资；转让自银行在账本上批准融资之时生效。",
                "The assignor assigns the receivable above (the GoldTicket) for the amount above to the bank "
                "for financing; the assignment takes effect when the bank approves the financing on the ledger.",
            ),
            RECOURSE_TEXT[with_recourse],
        ],
        "footer": "本协议由转让方经办人以其证书卡作出电子签名（PAdES），其 SHA-256 与融资申请一并记录于账本；"
        "受让银行批准融资时以其证书卡会签。",
        "footer_en": "Signed (PAdES) by the assignor's clerk with the clerk's own card; its SHA-256 is recorded "
        "on the ledger with the financing application. The bank countersigns it with its card when it approves.",
        "platform_name": names.get(OPERATOR, ("", ""))[0],
        "platform_name_en": names.get(OPERATOR, ("", ""))[1],
    }
    _, digest = card_sign(
        platform,
        holder,
        pin=pin,
        rendered=pdf.render_assignment(view),
        terms=terms,
        reason=f"GoldTicket financing assignment {terms['document_id']}",
    )
    return digest


def countersign_financing_assignment(
    platform: Platform, banker: Actor, *, pin: str, application: dict[str, Any]
) -> str:
    """The application's assignment to the bank countersigned by ``banker``'s card, the card of
    the bank user whose signature commits the approval (a second PAdES signature, an incremental
    update of the holder's signed file); its SHA-256 (``countersigned_assignment_sha256``), which
    the approval's transaction records. The document is the holder's as it stands: its terms
    state the rate bound the holder signed, never the approved rate (private to the holder and
    the bank, #19), and the countersignature adds none."""
    return _countersign(
        platform,
        banker,
        pin,
        str(application["assignment_sha256"]),
        "financing assignment",
        BANK_COUNTERSIGNATURE,
    )


def _application_document(
    platform: Platform, actor: Actor, application_id: str
) -> tuple[dict[str, Any], str]:
    application = platform.lookup("application", d.require_text(application_id, "application_id"))
    ticket = access.ticket(platform, application["ticket_id"])
    if actor.member_id != application["bank_org_id"]:
        _in_path(platform, actor, ticket["root_id"])
    digest = application.get("countersigned_assignment_sha256") or application.get("assignment_sha256")
    if not digest:
        raise d.NotFoundError(f"application {application['id']} was made without a signed assignment")
    return application, str(digest)


def download_financing_assignment(platform: Platform, actor: Actor, application_id: str) -> tuple[bytes, str]:
    """The application's assignment to the bank (countersigned by the bank's card once approved),
    for its bank and the members in the ticket's path. ForbiddenError, NotFoundError."""
    application, digest = _application_document(platform, actor, application_id)
    return _kept(platform, digest, FINANCING_ASSIGNMENT), f"financing-assignment-{application['id']}.pdf"


def verify_financing_assignment(
    platform: Platform, actor: Actor, application_id: str, data: bytes
) -> dict[str, Any]:
    """The verdict on a copy of the application's assignment: the ledger's file, signed by the
    holder's card (and, once approved, countersigned by the bank's)."""
    application, recorded = _application_document(platform, actor, application_id)
    about = {"application_id": application["id"], "kind": FINANCING_ASSIGNMENT}
    members = [application["holder_org_id"]]
    if application.get("countersigned_assignment_sha256"):
        members.append(application["bank_org_id"])
    return _verdict(platform, data, recorded, members, about)


def _kept(platform: Platform, digest: str, what: str) -> bytes:
    try:
        return (documents_dir(platform) / f"{digest}.pdf").read_bytes()
    except FileNotFoundError:
        raise d.NotFoundError(f"the signed {what} is not kept here") from None


def countersign_agreement(platform: Platform, payee: Actor, *, pin: str, offer: dict[str, Any]) -> str:
    """The offer's assignment agreement countersigned by the transferee's (``payee``'s) card (a
    second PAdES signature, an incremental update); its SHA-256 (``countersigned_sha256``)."""
    return _countersign(
        platform, payee, pin, str(offer["agreement_sha256"]), "assignment agreement", COUNTERSIGNATURE
    )


def _countersign(
    platform: Platform, actor: Actor, pin: str, signed_sha256: str, what: str, field_name: str
) -> str:
    """The kept signed document ``signed_sha256`` (``what``) with a second PAdES signature by
    ``actor``'s card in ``field_name`` (an incremental update); the new file's SHA-256."""
    signed = _kept(platform, signed_sha256, what)
    terms = {**read_terms(signed), "signer_org_id": actor.member_id}
    _, digest = card_sign(
        platform,
        actor,
        pin=pin,
        rendered=signed,
        terms=terms,
        reason=f"GoldTicket {what} {terms.get('document_id')} countersigned",
        field_name=field_name,
    )
    return digest


def _offer_document(platform: Platform, actor: Actor, offer_id: str, kind: str) -> tuple[dict[str, Any], str]:
    if kind not in OFFER_KINDS:
        raise d.InvalidInputError(f"no offer document kind {kind!r}; one of {', '.join(OFFER_KINDS)}")
    offer = platform.lookup("offer", d.require_text(offer_id, "offer_id"))
    ticket = access.ticket(platform, offer["ticket_id"])
    if actor.member_id != offer["to_org_id"]:
        _in_path(platform, actor, ticket["root_id"])
    if kind == ASSIGNMENT_AGREEMENT:
        digest = offer.get("countersigned_sha256") or offer.get("agreement_sha256")
    else:
        digest = offer.get("notice_sha256")
    if not digest:
        raise d.NotFoundError(f"offer {offer['id']} was made without a signed {kind}")
    return offer, str(digest)


def download_offer_document(platform: Platform, actor: Actor, offer_id: str, kind: str) -> tuple[bytes, str]:
    """The offer's assignment agreement (countersigned once accepted) or notice to the debtor,
    for the members in the ticket's path and the offer's payee. ForbiddenError, NotFoundError."""
    offer, digest = _offer_document(platform, actor, offer_id, kind)
    return _kept(platform, digest, kind), f"{FILENAMES[kind]}-{offer['id']}.pdf"


def verify_offer_document(
    platform: Platform, actor: Actor, offer_id: str, kind: str, data: bytes
) -> dict[str, Any]:
    """The verdict on a copy of the offer's agreement or notice: the ledger's file, signed by the
    transferor's card (and, once accepted, the agreement countersigned by the transferee's)."""
    offer, recorded = _offer_document(platform, actor, offer_id, kind)
    members = [offer["from_org_id"]]
    if kind == ASSIGNMENT_AGREEMENT and offer.get("countersigned_sha256"):
        members.append(offer["to_org_id"])
    return _verdict(platform, data, recorded, members, {"offer_id": offer["id"], "kind": kind})


SHA256_DIFFERS = "sha256_differs"  # genuinely signed, but not the file the ledger names
# every reason_code a verdict may answer ("" when valid): the signature check's, then the ledger's
REASON_CODES = (*pdf.REASON_CODES, SHA256_DIFFERS)


def _judged(check: pdf.SignatureCheck, recorded: str) -> dict[str, Any]:
    """The verdict, its ``reason_code`` and English ``reason`` ("" when valid). The signature
    check speaks first (it names what was done to the file: a changed byte, bytes appended,
    another member's card...); a file whose signatures are all genuine but is not the one the
    ledger names (another document of the same signer, a copy without a later countersignature
    of the same count) is ``sha256_differs``."""
    if not check.genuine:
        code, reason = check.code, check.reason
    elif check.sha256 != recorded:
        code, reason = SHA256_DIFFERS, "the file is not the one recorded on the ledger (SHA-256 differs)"
    else:
        code, reason = "", ""
    return {
        "verdict": "forged" if code else "valid",
        "reason_code": code,
        "reason": reason,
        "sha256": check.sha256,
        "recorded_sha256": recorded,
    }


def _verdict(
    platform: Platform, data: bytes, recorded: str, members: list[str], about: dict[str, Any]
) -> dict[str, Any]:
    trusted = platform.keystore.trusted()
    signers = []
    for member in members:
        msp = platform.evaluate("GetMember", {"id": member}).get("msp_id", "")
        signers.append((member, trusted.get(msp, b"")))
    check = pdf.check_member_signatures(data, signers)
    return {**about, **_judged(check, recorded), "signers": members}


def _in_path(platform: Platform, actor: Actor, root_id: str) -> None:
    """ForbiddenError unless ``actor``'s member may see a piece of the tree under ``root_id``
    (the issuer, every holder of its path, the banks that financed a piece) or is the operator."""
    if actor.member_id == OPERATOR:
        return
    docs: dict[str, dict[str, Any]] = {}

    def walk(node: dict[str, Any]) -> None:
        docs[node["ticket"]["id"]] = node["ticket"]
        for child in node["children"]:
            walk(child)

    walk(platform.evaluate("GetLineage", {"ticket_id": root_id}))
    if not visible_pieces(actor.member_id, docs):
        raise d.ForbiddenError(f"ticket {root_id}'s documents are for the members in its path only")


def _recorded(platform: Platform, actor: Actor, ticket_id: str, kind: str) -> tuple[dict[str, Any], str]:
    if kind not in DOCUMENT_FIELDS:
        raise d.InvalidInputError(f"no document kind {kind!r}; one of {', '.join(sorted(DOCUMENT_FIELDS))}")
    ticket = access.ticket(platform, ticket_id)
    root = access.ticket(platform, ticket["root_id"])
    _in_path(platform, actor, root["id"])
    digest = root.get(DOCUMENT_FIELDS[kind])
    if not digest:
        raise d.NotFoundError(f"ticket {root['id']} was issued without a signed {kind}")
    return root, str(digest)


def download(platform: Platform, actor: Actor, ticket_id: str, kind: str) -> tuple[bytes, str]:
    """The signed document ``kind`` of the ticket's tree and a file name, for a member in its
    path. Raises ForbiddenError, NotFoundError."""
    root, digest = _recorded(platform, actor, ticket_id, kind)
    path = documents_dir(platform) / f"{digest}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise d.NotFoundError(f"the signed {kind} of ticket {root['id']} is not kept here") from None
    return data, f"{FILENAMES[kind]}-{root['id']}.pdf"


def verify(platform: Platform, actor: Actor, ticket_id: str, kind: str, data: bytes) -> dict[str, Any]:
    """The verdict on an uploaded copy of the ticket's document ``kind``: ``valid`` when it is the
    very file the ledger names, signed by a card of the member who signs that kind (the issuer
    for a commitment) under its organisation's CA; else ``forged`` with the reason (its
    ``reason_code``, one of REASON_CODES, and the English ``reason``)."""
    root, recorded = _recorded(platform, actor, ticket_id, kind)
    signer = root["issuer_org_id"]
    member = platform.evaluate("GetMember", {"id": signer})
    ca_pem = platform.keystore.trusted().get(member.get("msp_id", ""), b"")
    check = pdf.check_member_signatures(data, [(signer, ca_pem)])
    return {"ticket_id": root["id"], "kind": kind, **_judged(check, recorded), "signer_org_id": signer}


def may_read_tree(platform: Platform, actor: Actor, root_id: str) -> bool:
    """Whether ``actor`` may download the documents of the tree under ``root_id`` as a member
    of its path (the operator too): the check the downloads make."""
    try:
        _in_path(platform, actor, root_id)
    except (d.ForbiddenError, d.NotFoundError):  # not on the ledger (yet): nothing to hand out
        return False
    return True
