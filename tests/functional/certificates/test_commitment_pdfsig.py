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
