"""An independent check: poppler's pdfsig (not pyHanko) with the published signing
certificate's CA in an NSS database, as a bank could check a certificate without GoldTicket.
pdfsig exits 0 even for a bad signature, so its output is read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from goldticket.services import certificates

pytestmark = pytest.mark.functional


def pdfsig(nss: Path, pdf: Path) -> str:
    result = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", str(pdf)], capture_output=True, text=True, timeout=60
    )
    return result.stdout + result.stderr


def test_pdfsig_trusts_the_platform_signature_over_the_whole_file(consortium, issued_ticket, tmp_path):
    platform = consortium.platform
    issued = certificates.issue_certificate(platform, consortium.tier1, issued_ticket["id"])
    published = certificates.signing_certificates_pem(platform).decode()
    ca_pem = published[published.index("-----BEGIN CERTIFICATE-----", 1) :]
    (tmp_path / "ca.pem").write_text(ca_pem)
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
            "operator",
            "-t",
            "C,C,C",
            "-i",
            str(tmp_path / "ca.pem"),
        ],
        check=True,
        timeout=60,
    )
    good = tmp_path / "good.pdf"
    good.write_bytes(issued.pdf)
    report = pdfsig(nss, good)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    assert "Total document signed" in report and "GoldTicket certificate signing" in report

    changed = bytearray(issued.pdf)
    changed[len(changed) // 2] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(changed))
    assert "Digest Mismatch." in pdfsig(nss, bad)

    appended = tmp_path / "appended.pdf"
    appended.write_bytes(issued.pdf + b"\n% appended\n")
    assert "Not total document signed" in pdfsig(nss, appended)
