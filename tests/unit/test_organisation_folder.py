"""#19: an organisation's folder is made once, never overwritten, and holds that organisation's CA
only (goldticket/signing/organisations.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldticket.signing import OrgCA
from goldticket.signing.errors import CertificateError
from goldticket.signing.organisations import OrganisationFolder


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
