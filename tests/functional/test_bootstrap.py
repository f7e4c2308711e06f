"""The ledger's first transaction: only an admin of the member it creates may sign it, once."""

from __future__ import annotations

import pytest

from goldticket.ledger import Contract, EndorseError, open_local_ledger
from goldticket.messages import Identity
from goldticket.signing import OrgCA, SoftwareSigner, new_member_key

pytestmark = pytest.mark.functional


def test_only_an_admin_of_the_operator_bootstraps_and_only_once(tmp_path):
    ca = OrgCA.create("OperatorMSP", "GoldTicket Operator")
    ledger = open_local_ledger(tmp_path, {"OperatorMSP": ca.certificate_pem}, check_time=False)

    def signer(member_id: str, role: str) -> SoftwareSigner:
        key = new_member_key()
        attributes = {"member": member_id, "role": role, "user": f"{member_id}.{role}"}
        return SoftwareSigner(
            key, Identity("OperatorMSP", ca.issue(key.public_key(), common_name="x", attributes=attributes))
        )

    contract = Contract(ledger)
    request = {"id": "operator", "name": "金票平台运营方"}
    try:
        for intruder in (signer("operator", "clerk"), signer("tier1", "admin")):
            with pytest.raises(EndorseError, match="forbidden: the bootstrap must be signed by an admin"):
                contract.submit(intruder, "Bootstrap", request)
        assert ledger.height() == 1
        member, _, _ = contract.submit(signer("operator", "admin"), "Bootstrap", request)
        assert member["role"] == "operator"
        with pytest.raises(EndorseError, match="conflict: the ledger is already bootstrapped"):
            contract.submit(signer("operator", "admin"), "Bootstrap", request)
    finally:
        ledger.close()


def test_the_read_identity_bootstrapped_must_be_the_operators_reader(tmp_path):
    """The portal's read identity registered at Bootstrap reads every query's answer for the
    platform; a certificate of another member, or of the operator with a signing role, is
    refused (it would register a second identity the bootstrap never meant), and nothing is
    written."""
    ca = OrgCA.create("OperatorMSP", "GoldTicket Operator")
    ledger = open_local_ledger(tmp_path, {"OperatorMSP": ca.certificate_pem}, check_time=False)

    def certificate(member_id: str, role: str) -> tuple[SoftwareSigner, bytes]:
        key = new_member_key()
        attributes = {"member": member_id, "role": role, "user": f"{member_id}.{role}"}
        pem = ca.issue(key.public_key(), common_name="x", attributes=attributes)
        return SoftwareSigner(key, Identity("OperatorMSP", pem)), pem

    contract = Contract(ledger)
    admin, _ = certificate("operator", "admin")
    try:
        for member_id, role in (("tier1", "reader"), ("operator", "clerk"), ("operator", "admin")):
            _, wrong = certificate(member_id, role)
            request = {"id": "operator", "name": "金票平台运营方", "reader_certificate_pem": wrong.decode()}
            with pytest.raises(EndorseError, match="invalid_input: the read identity must be the operator's"):
                contract.submit(admin, "Bootstrap", request)
        assert ledger.height() == 1
        _, reader = certificate("operator", "reader")
        request = {"id": "operator", "name": "金票平台运营方", "reader_certificate_pem": reader.decode()}
        member, _, _ = contract.submit(admin, "Bootstrap", request)
        assert member["id"] == "operator"
    finally:
        ledger.close()
