"""#19: the platform's (operator's) data directory must hold no private key of another
organisation. The crypto material `make network-up` lays out (fabnet.crypto.ensure_crypto, the
same code path, no processes needed to make the files) is scanned for every private key, in PEM
files and inside JSON records, and each key is matched to the certificates of the organisations
it could belong to. Today one data directory holds the CA keys and node keys of CoreMSP, BankMSP
and OrdererMSP as well, so this test is a strict xfail until per-organisation folders land: it
fails (XPASS) the day the layout is fixed, reminding to drop the marker."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

REPOSITORY = Path(__file__).resolve().parents[2]
OPERATOR = "OperatorMSP"
PEM_KEY = re.compile(rb"-----BEGIN (?:EC |)PRIVATE KEY-----.+?-----END (?:EC |)PRIVATE KEY-----", re.S)
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _blobs(path: Path) -> list[bytes]:
    """The file's bytes, or for a JSON record the text of its string values (PEM inside)."""
    raw = path.read_bytes()
    if path.suffix != ".json":
        return [raw]
    strings: list[bytes] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value.encode())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(raw))
    return strings


def _public(der: bytes) -> bytes:
    return serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_keys_by_organisation(folder: Path, cas: dict[str, x509.Certificate]) -> dict[str, list[str]]:
    """{msp_id: [files]} for every private key under folder whose public key is a CA's or that of a
    certificate issued by that CA (found anywhere under folder)."""
    owner: dict[bytes, str] = {}
    files = [p for p in folder.rglob("*") if p.is_file()]
    for msp_id, ca in cas.items():
        owner[
            ca.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ] = msp_id
    for path in files:
        for blob in _blobs(path):
            for pem in PEM_CERT.findall(blob):
                cert = x509.load_pem_x509_certificate(pem)
                for msp_id, ca in cas.items():
                    if cert.issuer == ca.subject:
                        spki = cert.public_key().public_bytes(
                            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                        )
                        owner.setdefault(spki, msp_id)
    found: dict[str, list[str]] = {}
    for path in files:
        for blob in _blobs(path):
            for pem in PEM_KEY.findall(blob):
                key = serialization.load_pem_private_key(pem, password=None)
                spki = key.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
                found.setdefault(owner.get(spki, "unknown"), []).append(str(path.relative_to(folder)))
    return found


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="#19: one data directory still makes every organisation's CA and node keys",
)
def test_the_operators_data_directory_holds_no_other_organisations_private_key(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPOSITORY / "fabric-network"))
    try:
        from fabnet.crypto import ensure_crypto
        from fabnet.layout import Layout
    finally:
        sys.path.remove(str(REPOSITORY / "fabric-network"))
    layout = Layout.create(tmp_path / "data", port_base=31050)
    assert ensure_crypto(layout)
    cas = {
        msp_id: x509.load_pem_x509_certificate(layout.ca_pem(msp_id).read_bytes())
        for msp_id in layout.msp_ids
    }
    found = private_keys_by_organisation(layout.data_dir, cas)
    assert found.get(OPERATOR), "the scan finds the operator's own keys (it can see keys at all)"
    others = {msp_id: files for msp_id, files in found.items() if msp_id != OPERATOR}
    assert others == {}, f"private keys of other organisations in the operator's folder: {others}"
