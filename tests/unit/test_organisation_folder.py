"""#19: an organisation's folder is made once, never overwritten, and holds that organisation's CA
only (goldticket/signing/organisations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldticket.signing import OrgCA
from goldticket.signing.errors import CertificateError
from goldticket.signing.keystore import KeyStore
from goldticket.signing.organisations import OrganisationFolder, consortium_cas


def test_a_folder_is_never_overwritten(tmp_path: Path) -> None:
    folder = OrganisationFolder(tmp_path / "BankMSP")
    first = folder.create("BankMSP", "Banks")
    with pytest.raises(CertificateError, match="never overwritten"):
        folder.create("BankMSP", "Banks")
    assert folder.ca().certificate_pem == first.certificate_pem
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "org.json").write_text("{}")
    with pytest.raises(CertificateError, match="never overwritten"):
        OrganisationFolder(tmp_path / "other").create("CoreMSP", "Cores")


def test_a_folder_takes_its_own_organisations_ca_only(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="CoreMSP's, not BankMSP's"):
        OrganisationFolder(tmp_path / "BankMSP").create(
            "BankMSP", "Banks", ca=OrgCA.create("CoreMSP", "Cores")
        )
    assert not (tmp_path / "BankMSP" / "ca" / "ca.json").exists()


def test_ensure_refuses_another_organisations_folder(tmp_path: Path) -> None:
    folder = OrganisationFolder(tmp_path / "x")
    made = folder.ensure("BankMSP", "Banks")
    assert folder.ensure("BankMSP", "Banks").certificate_pem == made.certificate_pem
    with pytest.raises(CertificateError, match="is BankMSP's folder, not CoreMSP's"):
        folder.ensure("CoreMSP", "Cores")


def test_files_are_owner_only(tmp_path: Path) -> None:
    folder = OrganisationFolder(tmp_path / "orgs" / "BankMSP")
    folder.create("BankMSP", "Banks")
    for path in (tmp_path / "orgs", folder.path, folder.path / "ca"):
        assert path.stat().st_mode & 0o077 == 0, path
    assert folder.ca_file.stat().st_mode & 0o777 == 0o600


def _held_keys(keystore: KeyStore) -> set[str]:
    return set(keystore.cas())


def test_an_older_data_directory_hands_every_key_over_and_forgets_it(tmp_path: Path) -> None:
    """One hand-over for `goldticket init` and `make network-up` alike: each key the data
    directory held moves to its organisation's folder; the data directory keeps the certificates
    it trusts and nothing of the others (an orderer organisation's)."""
    keystore = KeyStore(tmp_path / "data")
    old = {msp: OrgCA.create(msp, msp) for msp in ("OperatorMSP", "BankMSP", "OrdererMSP")}
    for ca in old.values():
        keystore.save_ca(ca)
    folders = {msp: (msp, tmp_path / "orgs" / msp) for msp in ("BankMSP", "OrdererMSP")}
    cas = consortium_cas(keystore, "OperatorMSP", "Operator", folders, trusted={"BankMSP"})
    assert {msp: ca.certificate_pem for msp, ca in cas.items()} == {
        msp: ca.certificate_pem for msp, ca in old.items()
    }
    assert _held_keys(keystore) == {"OperatorMSP"}
    assert keystore.trusted()["BankMSP"] == old["BankMSP"].certificate_pem
    assert "OrdererMSP" not in keystore.trusted()
    assert not (keystore.msp_dir / "OrdererMSP.json").exists()
    assert (
        OrganisationFolder(tmp_path / "orgs" / "OrdererMSP").ca().private_key_pem
        == old["OrdererMSP"].private_key_pem
    )


def test_a_folder_with_another_ca_than_the_one_held_is_refused(tmp_path: Path) -> None:
    keystore = KeyStore(tmp_path / "data")
    keystore.save_ca(OrgCA.create("OrdererMSP", "Orderers"))
    OrganisationFolder(tmp_path / "orgs" / "OrdererMSP").create("OrdererMSP", "Orderers")
    with pytest.raises(CertificateError, match="different OrdererMSP CAs"):
        consortium_cas(
            keystore,
            "OperatorMSP",
            "Operator",
            {"OrdererMSP": ("Orderers", tmp_path / "orgs" / "OrdererMSP")},
            trusted=(),
        )
    assert "OrdererMSP" in _held_keys(keystore)  # nothing forgotten on refusal
