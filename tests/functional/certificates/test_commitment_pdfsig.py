"""#21 an independent check of a card-signed document: poppler's pdfsig (not pyHanko), with
only the issuer organisation's CA in an NSS database, finds the payment commitment signed by
the issuer clerk's card over the whole file; a changed byte is a digest mismatch."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from support import PIN, TODAY, invoice

from goldticket.services import signed_documents, tickets

pytestmark = pytest.mark.functional


def pdfsig(nss: Path, pdf: Path) -> str:
    result = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, timeout=60
    )
    return result.stdout + result.stderr


def test_pdfsig_finds_the_commitment_signed_by_the_issuers_card(consortium, tmp_path):
    platform = consortium.platform
    ticket = tickets.issue_ticket(
        platform, consortium.core, payee_org_id="tier1", amount_fen=7_654_321,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[invoice("INV-PDFSIG", 7_654_321)], pin=PIN,
    )  # fmt: skip
    data, _ = signed_documents.download(
        platform, consortium.core, ticket["id"], signed_documents.PAYMENT_COMMITMENT
    )
    msp = platform.evaluate("GetMember", {"id": "core"})["msp_id"]
    (tmp_path / "ca.pem").write_bytes(platform.keystore.trusted()[msp])
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, timeout=60)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{nss}",
            "-n",
            "core-ca",
            "-t",
            "C,C,C",
            "-i",
            str(tmp_path / "ca.pem"),
        ],
        check=True,
        timeout=60,
    )
    good = tmp_path / "commitment.pdf"
    good.write_bytes(data)
    report = pdfsig(nss, good)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    assert "Total document signed" in report and consortium.core.username in report, report

    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    bad = tmp_path / "changed.pdf"
    bad.write_bytes(bytes(changed))
    assert "Digest Mismatch." in pdfsig(nss, bad)


def _nss(tmp_path: Path, cas: dict[str, bytes]) -> Path:
    nss = tmp_path / "nss"
    nss.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, timeout=60)
    for name, pem in cas.items():
        (tmp_path / f"{name}.pem").write_bytes(pem)
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{nss}",
                "-n",
                name,
                "-t",
                "C,C,C",
                "-i",
                str(tmp_path / f"{name}.pem"),
            ],
            check=True,
            timeout=60,
        )
    return nss


def test_pdfsig_finds_the_assignment_signed_by_the_holder_and_countersigned_by_the_bank(consortium, tmp_path):
    """#21: the financing assignment once approved carries two signatures: the holder clerk's
    card over its revision, the bank user's card over the whole file; pdfsig, trusting only the
    two organisations' CAs, finds both valid and trusted. Trusting the holder's CA alone, the
    bank's signature is not trusted."""
    from support import register

    from goldticket.services import financing

    platform = consortium.platform
    ticket = tickets.issue_ticket(
        platform, consortium.core, payee_org_id="tier1", amount_fen=7_654_321,
        maturity_date=TODAY + dt.timedelta(days=90), invoices=[invoice("INV-PDFSIG-FS", 7_654_321)], pin=PIN,
    )  # fmt: skip
    tickets.accept_ticket(platform, consortium.tier1, ticket["id"], pin=PIN)
    applied = financing.apply_financing(
        platform, consortium.tier1, ticket_id=ticket["id"], bank_org_id="bank", amount_fen=1_000_000,
        max_annual_rate_bp=600, recourse=True, pin=PIN,
    )  # fmt: skip
    register(platform, consortium.bank, applied["application_id"])
    financing.approve_financing(
        platform, consortium.bank, application_id=applied["application_id"], annual_rate_bp=450,
        value_date=TODAY, pin=PIN,
    )  # fmt: skip
    data, _ = signed_documents.download_financing_assignment(
        platform, consortium.bank, applied["application_id"]
    )
    trusted = platform.keystore.trusted()
    msps = {member: platform.evaluate("GetMember", {"id": member})["msp_id"] for member in ("tier1", "bank")}
    good = tmp_path / "assignment.pdf"
    good.write_bytes(data)
    report = pdfsig(_nss(tmp_path / "both", {m: trusted[msp] for m, msp in msps.items()}), good)
    holder, bank = report.split("Signature #2")
    assert "Signature #1" in holder and consortium.tier1.username in holder, report
    assert "Signature is Valid." in holder and "Certificate is Trusted." in holder, report
    assert "Total document signed" not in holder, report  # its revision: the bank's follows
    assert consortium.bank.username in bank and "Total document signed" in bank, report
    assert "Signature is Valid." in bank and "Certificate is Trusted." in bank, report

    only_holder = pdfsig(_nss(tmp_path / "holder", {"tier1": trusted[msps["tier1"]]}), good)
    assert "Certificate is Trusted." in only_holder.split("Signature #2")[0], only_holder
    assert "Certificate is Trusted." not in only_holder.split("Signature #2")[1], only_holder
