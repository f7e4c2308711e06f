"""#19: the platform's (operator's) data directory must hold no private key of another
organisation. The crypto material `make network-up` lays out (fabnet.crypto.ensure_crypto, the
same code path, no processes needed to make the files) is scanned for every private key, in PEM
files and inside JSON records, and each key is matched to the certificates of the organisations
it could belong to. The operator's data directory holds the operator's keys only; CoreMSP,
BankMSP and OrdererMSP each keep theirs in their own folder (``<data dir>-orgs/<MSP>``), and each
such folder holds its own organisation's keys only. The same holds for a data directory made by
``goldticket init`` (the platform's own path), including one made before the folders existed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from goldticket.signing.ca_token import ca_token_module

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


def private_keys_by_organisation(
    folder: Path, cas: dict[str, x509.Certificate], *, certificates_in: tuple[Path, ...] = ()
) -> dict[str, list[str]]:
    """{msp_id: [files]} for every private key under folder whose public key is a CA's or that of a
    certificate issued by that CA (found anywhere under folder or ``certificates_in``); a key no
    certificate names counts as "unknown"."""
    owner: dict[bytes, str] = {}
    files = [p for p in folder.rglob("*") if p.is_file()]
    certificate_files = files + [p for other in certificates_in for p in other.rglob("*") if p.is_file()]
    for msp_id, ca in cas.items():
        owner[
            ca.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ] = msp_id
    for path in certificate_files:
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
    everywhere = (layout.data_dir, layout.organisations)
    found = private_keys_by_organisation(layout.data_dir, cas, certificates_in=everywhere)
    assert found.get(OPERATOR), "the scan finds the operator's own keys (it can see keys at all)"
    others = {msp_id: files for msp_id, files in found.items() if msp_id != OPERATOR}
    assert others == {}, f"private keys of other organisations in the operator's folder: {others}"
    assert not layout.organisations.is_relative_to(layout.data_dir)
    for msp_id in layout.msp_ids:
        if msp_id == OPERATOR:
            continue
        folder = layout.organisations / msp_id
        assert folder.stat().st_mode & 0o077 == 0, f"{folder} is readable by others"
        mine = private_keys_by_organisation(folder, cas, certificates_in=everywhere)
        assert set(mine) == {msp_id}, f"{msp_id}'s folder holds keys of {sorted(mine)}"
        assert len(mine[msp_id]) >= 3, "its CA, its node(s) and its admin, each with a TLS key"


# --------------------------------------------------------------- one folder per organisation
def run_org(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPOSITORY / "fabric-network" / "network.py"), "org", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def init_org(folder: Path, msp_id: str, *nodes: str) -> None:
    node_args = [arg for node in nodes for arg in ("--node", node)]
    made = run_org("init", "--msp", msp_id, "--name", f"{msp_id} Ltd", "--dir", str(folder), *node_args)
    assert made.returncode == 0, made.stderr


def ca_certificates(*folders: Path) -> dict[str, x509.Certificate]:
    cas = {}
    for folder in folders:
        msp_id = json.loads((folder / "org.json").read_text())["msp_id"]
        cas[msp_id] = x509.load_pem_x509_certificate((folder / "msp" / "cacerts" / "ca.pem").read_bytes())
    return cas


def test_an_organisation_folder_holds_its_own_keys_only_and_exchanges_public_files(tmp_path: Path) -> None:
    bank, operator = tmp_path / "bank", tmp_path / "operator"
    init_org(bank, "BankTwoMSP", "peer:peer0.banktwo:127.0.0.1:31190")
    init_org(
        operator, "OperatorMSP", "peer:peer0.operator:127.0.0.1:31150", "orderer:orderer0:127.0.0.1:31050"
    )
    # private files 0600, folders 0700
    for path in [bank, *bank.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        if path.is_dir():
            assert mode == 0o700, path
        elif path.name in ("key.pem", "server.key", "ca.json"):
            assert mode == 0o600, path
    # node and admin certificates are issued by the organisation's own CA, with their NodeOU
    ca = ca_certificates(bank)["BankTwoMSP"]
    peer = x509.load_pem_x509_certificate(
        (bank / "nodes" / "peer0.banktwo" / "msp" / "signcerts" / "cert.pem").read_bytes()
    )
    peer.verify_directly_issued_by(ca)
    assert "peer" in peer.subject.rfc4514_string()
    admin = x509.load_pem_x509_certificate((bank / "admin" / "msp" / "signcerts" / "cert.pem").read_bytes())
    admin.verify_directly_issued_by(ca)
    assert "admin" in admin.subject.rfc4514_string()
    # export: one file, no key; the operator imports it
    public = tmp_path / "banktwo.json"
    assert run_org("export", "--dir", str(bank), "--out", str(public)).returncode == 0
    assert b"PRIVATE KEY" not in public.read_bytes()
    data = json.loads(public.read_text())
    assert data["msp_id"] == "BankTwoMSP" and data["nodes"][0]["endpoint"] == "127.0.0.1:31190"
    imported = run_org("import", "--dir", str(operator), "--file", str(public))
    assert imported.returncode == 0, imported.stderr
    assert (operator / "imported" / "BankTwoMSP" / "msp" / "cacerts" / "ca.pem").read_bytes() == (
        bank / "msp" / "cacerts" / "ca.pem"
    ).read_bytes()
    # the operator's folder, with the bank imported, holds only the operator's private keys
    found = private_keys_by_organisation(operator, ca_certificates(operator, bank))
    assert set(found) == {"OperatorMSP"}, found
    in_token = ca_token_module() is not None  # the CA key is in the folder's own token then
    assert sorted(found["OperatorMSP"]) == [
        "admin/msp/keystore/key.pem",
        "admin/tls/server.key",
        *([] if in_token else ["ca/ca.json"]),
        "nodes/orderer0/msp/keystore/key.pem",
        "nodes/orderer0/tls/server.key",
        "nodes/peer0.operator/msp/keystore/key.pem",
        "nodes/peer0.operator/tls/server.key",
    ]


REASONS = {
    "a private key": "holds a private key",
    "a node certificate as CA": "not a self-signed CA",
    "its own MSP id": "this folder's own organisation",
    "another NodeOUs config": "NodeOUs config differs",
    "a bad endpoint": "the port must be",
    "not a file of this format": "not an organisation's public file",
    "a CA certificate signed by another key": "signature does not verify",
}


def forged_ca(ca_pem: str) -> str:
    """The CA certificate rebuilt as is (subject, issuer, key, CA) but signed with another key."""
    genuine = x509.load_pem_x509_certificate(ca_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(genuine.subject)
        .issuer_name(genuine.issuer)
        .public_key(genuine.public_key())
        .serial_number(genuine.serial_number)
        .not_valid_before(genuine.not_valid_before_utc)
        .not_valid_after(genuine.not_valid_after_utc)
    )
    for extension in genuine.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_an_import_refuses_a_private_key_a_forged_ca_and_its_own_msp(tmp_path: Path) -> None:
    bank, operator = tmp_path / "bank", tmp_path / "operator"
    init_org(bank, "BankTwoMSP", "peer:peer0.banktwo:127.0.0.1:31190")
    init_org(operator, "OperatorMSP")
    public = tmp_path / "banktwo.json"
    assert run_org("export", "--dir", str(bank), "--out", str(public)).returncode == 0
    good = json.loads(public.read_text())
    ca_record = (bank / "ca" / "ca.json").read_text()
    a_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    node_cert = (bank / "nodes" / "peer0.banktwo" / "msp" / "signcerts" / "cert.pem").read_text()
    bad = {
        "a private key": {**good, "ca_key": a_key.decode()},
        "a node certificate as CA": {**good, "ca_pem": node_cert},
        "its own MSP id": {**good, "msp_id": "OperatorMSP"},
        "another NodeOUs config": {**good, "node_ous_config": "NodeOUs:\n  Enable: false\n"},
        "a bad endpoint": {**good, "nodes": [{"name": "peer0", "role": "peer", "endpoint": "x:99999"}]},
        "not a file of this format": {**good, "format": "other"},
        "a CA certificate signed by another key": {**good, "ca_pem": forged_ca(good["ca_pem"])},
    }
    for case, data in bad.items():
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(data))
        refused = run_org("import", "--dir", str(operator), "--file", str(path))
        assert refused.returncode == 1, case
        assert REASONS[case] in refused.stderr, (case, refused.stderr)
        assert refused.stderr.startswith("error: "), case
        assert "PRIVATE KEY" not in refused.stderr and "Traceback" not in refused.stderr, case
    assert not (operator / "imported").exists()
    # and an existing folder is never overwritten
    again = run_org("init", "--msp", "BankTwoMSP", "--name", "x", "--dir", str(bank))
    assert again.returncode == 1 and (bank / "ca" / "ca.json").read_text() == ca_record
