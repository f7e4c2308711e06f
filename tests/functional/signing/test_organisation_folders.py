"""#19 on the platform's own path: ``goldticket init`` keeps only the operator's CA key in the data
directory; the core enterprises' and banks' CAs sign their users' cards from their own folders
(``<data dir>-orgs/<MSP>``); a folder whose CA is not the one the ledger trusts signs nothing; a
data directory made before the folders existed hands the keys it held over to them."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from goldticket.services import members, setup
from goldticket.signing import OrgCA
from goldticket.signing.ca_token import ca_token_module
from goldticket.signing.errors import SigningError
from goldticket.signing.keystore import KeyStore
from goldticket.signing.organisations import OrganisationFolder

PEM_KEY = re.compile(r"-----BEGIN (?:EC |)PRIVATE KEY-----.+?-----END (?:EC |)PRIVATE KEY-----", re.S)
OTHERS = ("CoreMSP", "BankMSP")


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_keys_in(folder: Path) -> list[tuple[Path, bytes]]:
    """(file, SubjectPublicKeyInfo) of every PEM private key in any file under ``folder``
    (JSON records included: their string values are searched as text)."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace").replace("\\n", "\n")
        for pem in PEM_KEY.findall(text):
            key = serialization.load_pem_private_key(pem.encode(), password=None)
            found.append((path, _spki(key.public_key())))
    return found


def ca_keys(platform: object) -> dict[str, bytes]:
    trusted = platform.keystore.trusted()  # type: ignore[attr-defined]
    return {msp: _spki(x509.load_pem_x509_certificate(pem).public_key()) for msp, pem in trusted.items()}


def test_the_data_directory_holds_only_the_operators_ca_key(consortium) -> None:  # type: ignore[no-untyped-def]
    p = consortium.platform
    keys = ca_keys(p)
    assert set(keys) == {"OperatorMSP", *OTHERS}
    in_data = {spki for _, spki in private_keys_in(p.settings.data_dir)}
    reader = p.keystore.reader()
    assert reader is not None and _spki(reader._private_key.public_key()) in in_data, "the scan sees keys"
    operator = KeyStore(p.settings.data_dir).cas()["OperatorMSP"]
    if ca_token_module(p.settings.pkcs11_module) is None:
        assert keys["OperatorMSP"] in in_data
    else:  # the operator's CA key too is in its own token, in no file
        assert keys["OperatorMSP"] not in in_data and not operator.private_key_pem
        assert _spki(operator.key.public_key()) == keys["OperatorMSP"]  # type: ignore[union-attr]
    for msp_id in OTHERS:
        assert keys[msp_id] not in in_data, f"{msp_id}'s CA key is in the platform's data directory"
        folder = p.settings.orgs_path / msp_id
        assert not folder.is_relative_to(p.settings.data_dir)
        assert folder.stat().st_mode & 0o077 == 0
        assert (folder / "ca" / "ca.json").stat().st_mode & 0o077 == 0
        module = ca_token_module(p.settings.pkcs11_module)
        if module is None:
            assert keys[msp_id] in {spki for _, spki in private_keys_in(folder)}
        else:  # in the organisation's own token: in no file of any folder
            assert keys[msp_id] not in {spki for _, spki in private_keys_in(folder)}
            key = OrganisationFolder(folder, module).ca().key
            assert _spki(key.public_key()) == keys[msp_id]  # type: ignore[union-attr]
    assert set(KeyStore(p.settings.data_dir).cas()) == {"OperatorMSP"}


@pytest.mark.parametrize(("username", "msp_id"), [("bank.credit", "BankMSP"), ("core.clerk", "CoreMSP")])
def test_a_members_card_is_certified_by_its_organisations_own_ca(consortium, username, msp_id) -> None:  # type: ignore[no-untyped-def]
    p = consortium.platform
    card = p.cards.registry.active_card(username)
    assert card.msp_id == msp_id
    certificate = x509.load_pem_x509_certificate(card.certificate_pem.encode())
    ca = OrganisationFolder(p.settings.orgs_path / msp_id).ca()
    certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.certificate_pem))


def test_a_folder_holding_another_ca_certifies_no_card(consortium) -> None:  # type: ignore[no-untyped-def]
    """Whoever swaps the bank's folder for one of their own (a CA the ledger does not trust)
    gets no card issued under it: the platform refuses before the card is certified."""
    p = consortium.platform
    folder = p.settings.orgs_path / "BankMSP"
    foreign = OrgCA.create("BankMSP", "Not The Bank")
    record = {
        "msp_id": "BankMSP",
        "certificate_pem": foreign.certificate_pem.decode(),
        "private_key_pem": foreign.private_key_pem.decode(),
    }
    (folder / "ca" / "ca.json").write_text(json.dumps(record))
    with pytest.raises(SigningError, match="not the one this platform trusts"):
        p.member_ca("BankMSP")
    members.register_member(
        p, p.desk(), member_id="bank2", name="北方银行", name_en="North Bank", role="bank"
    )
    with pytest.raises(SigningError, match="not the one this platform trusts"):
        members.add_user(p, p.desk(), member_id="bank2", username="bank2.credit", pin="482915")
    assert all(c.status != "ACTIVE" for c in p.cards.registry.cards_of("bank2.credit"))


def test_an_older_data_directory_hands_its_keys_over_on_init(settings) -> None:  # type: ignore[no-untyped-def]
    """Before #19 ``init`` kept every organisation's CA key in <data>/msp. Running ``init``
    again moves each into its folder, keeps the very CA the ledger trusts, and leaves the
    data directory with the certificate only."""
    if settings.ledger != "local":
        pytest.skip("the embedded ledger's data directory")
    platform = setup.init_platform(settings)
    try:
        keystore = platform.keystore
        before = keystore.trusted()
        for msp_id in OTHERS:
            folder = platform.settings.orgs_path / msp_id
            # as a data directory of before: the key in it (a software key: the folder's is in
            # its token, never read out, so a key of the same kind stands for it)
            old = OrgCA.create(msp_id, msp_id)
            keystore.save_ca(old)
            before[msp_id] = old.certificate_pem
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            folder.rmdir()
        assert set(keystore.cas()) == {"OperatorMSP", *OTHERS}
    finally:
        platform.close()
    again = setup.init_platform(dataclasses.replace(settings))
    try:
        assert set(again.keystore.cas()) == {"OperatorMSP"}
        assert again.keystore.trusted() == before
        for msp_id in OTHERS:
            assert OrganisationFolder(settings.orgs_path / msp_id).ca().certificate_pem == before[msp_id]
        in_data = {spki for _, spki in private_keys_in(settings.data_dir)}
        keys = ca_keys(again)
        assert not in_data & {keys[m] for m in OTHERS}
    finally:
        again.close()
