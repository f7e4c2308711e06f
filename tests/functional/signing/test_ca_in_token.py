"""#19: an organisation's CA key lives in its own PKCS#11 token (SoftHSM2 under its folder), as a
card's key does: ca.json names the token and holds no key, certificates are signed inside the
token and verify under the CA certificate (cryptography and OpenSSL), a folder made with a key
in ca.json moves it into a token when opened with a module, and a token holding another key
than the CA certificate's is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.errors import CertificateError
from goldticket.signing.organisations import OrganisationFolder

MODULE = ca_token_module()
pytestmark = pytest.mark.skipif(MODULE is None, reason="SoftHSM2 is not installed")


def _issue(folder: OrganisationFolder) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = folder.ca().issue(
        key.public_key(),
        common_name="clerk",
        attributes={"member_id": "M1", "user": "clerk", "role": "clerk"},
    )
    return x509.load_pem_x509_certificate(pem)


def _record(folder: OrganisationFolder) -> dict[str, object]:
    data: dict[str, object] = json.loads(folder.ca_file.read_text())
    return data


def test_a_new_folders_ca_key_is_only_in_its_token_and_signs_there(tmp_path: Path) -> None:
    folder = OrganisationFolder(tmp_path / "BankJnyhMSP", MODULE)
    ca = folder.create("BankJnyhMSP", "Bank of Jiangnan")
    record = _record(folder)
    assert "private_key_pem" not in record and ca.private_key_pem == b""
    assert folder.ca_file.stat().st_mode & 0o077 == 0
    assert "PRIVATE KEY" not in "".join(
        p.read_text("utf-8", "replace") for p in folder.path.rglob("*") if p.is_file()
    )
    assert list(folder.token_dir.iterdir()), "the token is under the organisation's folder"
    ca_certificate = x509.load_pem_x509_certificate(ca.certificate_pem)
    certificate = _issue(folder)
    certificate.verify_directly_issued_by(ca_certificate)
    # an independent check: OpenSSL verifies the certificate the token signed
    if shutil.which("openssl"):
        (tmp_path / "ca.pem").write_bytes(ca.certificate_pem)
        (tmp_path / "leaf.pem").write_bytes(certificate.public_bytes(encoding=_PEM))
        result = subprocess.run(
            ["openssl", "verify", "-CAfile", tmp_path / "ca.pem", tmp_path / "leaf.pem"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_a_folder_made_with_its_key_in_a_file_moves_it_into_a_token(tmp_path: Path) -> None:
    old = OrganisationFolder(tmp_path / "CoreMSP")
    ca = old.create("CoreMSP", "Changzhou Steel")
    assert _record(old)["private_key_pem"]
    moved = OrganisationFolder(old.path, MODULE).ca()
    assert moved.certificate_pem == ca.certificate_pem and moved.key is not None
    assert "private_key_pem" not in _record(old) and "token" in _record(old)
    _issue(OrganisationFolder(old.path, MODULE)).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca.certificate_pem)
    )
    # opened again, even without a module named, it signs through its token
    _issue(OrganisationFolder(old.path)).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca.certificate_pem)
    )


def test_a_move_cut_short_is_finished_by_the_next_open(tmp_path: Path) -> None:
    folder = OrganisationFolder(tmp_path / "CoreMSP")
    ca = folder.create("CoreMSP", "Changzhou Steel")
    record = _record(folder)
    # the record names the token, the token was never made (the process died in between)
    record["token"] = {"module": MODULE, "serial": "ca-coremsp", "pin": "0123456789abcdef"}
    folder.ca_file.write_text(json.dumps(record))
    opened = OrganisationFolder(folder.path, MODULE).ca()
    assert opened.key is not None and "private_key_pem" not in _record(folder)
    _issue(folder).verify_directly_issued_by(x509.load_pem_x509_certificate(ca.certificate_pem))


def test_a_token_holding_another_key_than_the_ca_certificates_is_refused(tmp_path: Path) -> None:
    mine = OrganisationFolder(tmp_path / "BankMSP", MODULE)
    mine.create("BankMSP", "Bank")
    theirs = OrganisationFolder(tmp_path / "Other", MODULE)
    theirs.create("BankMSP", "Bank")  # another CA under the same MSP id and token label
    shutil.rmtree(mine.token_dir)
    shutil.copytree(theirs.token_dir, mine.token_dir)
    record = _record(mine)
    record["token"] = _record(theirs)["token"]
    record["private_key_pem"] = "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"  # a move cut short
    mine.ca_file.write_text(json.dumps(record))
    with pytest.raises(CertificateError, match="another key"):
        mine.ca()


_PEM = __import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM


def test_the_operators_ca_key_moves_from_the_data_directory_into_its_token(tmp_path: Path) -> None:
    from goldticket.signing import OrgCA
    from goldticket.signing.keystore import KeyStore
    from goldticket.signing.organisations import consortium_cas

    keystore = KeyStore(tmp_path / "data")
    old = OrgCA.create("OperatorMSP", "GoldTicket Operator")
    keystore.save_ca(old)  # as init kept it before: the key in msp/OperatorMSP.json
    assert "PRIVATE KEY" in (keystore.msp_dir / "OperatorMSP.json").read_text()
    cas = consortium_cas(keystore, "OperatorMSP", "GoldTicket Operator", {}, trusted=(), pkcs11_module=MODULE)
    assert cas["OperatorMSP"].certificate_pem == old.certificate_pem and cas["OperatorMSP"].key is not None
    assert "PRIVATE KEY" not in (keystore.msp_dir / "OperatorMSP.json").read_text()
    held = KeyStore(tmp_path / "data").cas()["OperatorMSP"]
    _issue_with(held).verify_directly_issued_by(x509.load_pem_x509_certificate(old.certificate_pem))


def _issue_with(ca: object) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = ca.issue(
        key.public_key(), common_name="u", attributes={"member_id": "M", "user": "u", "role": "clerk"}
    )  # type: ignore[attr-defined]
    return x509.load_pem_x509_certificate(pem)
