"""#19: the organisation a member's identities come from. A supplier runs no node: always the
operator's organisation. A bank or core enterprise with a node of its own is registered under
its own organisation's MSP, only once the platform trusts that organisation's CA (its public
file imported by the desk, on a Fabric channel it joined); on the embedded ledger the
organisations are fixed when the ledger is made. The end to end path on real peers:
tests/integration/test_private_terms_peers.py."""

from __future__ import annotations

import pytest

from goldticket import domain as d
from goldticket.services import members
from goldticket.signing import OrgCA

pytestmark = pytest.mark.scenario


def test_a_member_under_an_organisation_the_platform_does_not_trust_is_refused(consortium):
    platform, desk = consortium.platform, consortium.platform.desk()
    height = platform.ledger.height()
    with pytest.raises(d.InvalidInputError, match="does not trust BankJnyhMSP's CA"):
        members.register_member(
            platform, desk, member_id="jnyh", name="江南银行", role="bank", msp_id="BankJnyhMSP"
        )
    with pytest.raises(d.InvalidInputError, match="a supplier runs no node"):
        members.register_member(
            platform, desk, member_id="s9", name="供应商九", role="supplier", msp_id="BankMSP"
        )
    assert platform.ledger.height() == height
    # the role's own organisation, named or not
    bank = members.register_member(
        platform, desk, member_id="b9", name="银行九", role="bank", msp_id="BankMSP"
    )
    assert bank["msp_id"] == "BankMSP"
    core = members.register_member(platform, desk, member_id="c9", name="核心九", role="core")
    assert core["msp_id"] == "CoreMSP"
    # a card of a member is certified by its organisation's CA
    clerk = members.add_user(platform, desk, member_id="b9", username="b9.clerk", pin="135790")
    assert platform.cards.registry.active_card(clerk.username).msp_id == "BankMSP"


def test_the_embedded_ledger_takes_no_new_organisation(consortium):
    platform, desk = consortium.platform, consortium.platform.desk()
    if platform.ledger.kind != "local":
        pytest.skip(
            "on Fabric an organisation joins the channel: tests/integration/test_private_terms_peers.py"
        )
    public = {
        "msp_id": "BankJnyhMSP",
        "ca_pem": OrgCA.create("BankJnyhMSP", "江南银行").certificate_pem.decode(),
    }
    with pytest.raises(d.InvalidInputError, match="fixed when it is made"):
        members.trust_organisation(platform, desk, public)
    assert "BankJnyhMSP" not in platform.keystore.trusted()
    assert platform.private_endorsers("BankMSP", "ApproveFinancing", {"annual_rate_bp": 300}) == ()


def test_only_a_self_signed_ecdsa_ca_certificate_is_trusted():
    ca = OrgCA.create("BankJnyhMSP", "江南银行")
    assert members.check_ca_certificate(ca.certificate_pem, "BankJnyhMSP") == ca.certificate_pem
    from goldticket.signing import new_member_key

    leaf = ca.issue(
        new_member_key().public_key(), common_name="x", attributes={"member": "m", "role": "clerk"}
    )
    for bad in (b"not a certificate", leaf, ca.certificate_pem.replace(b"A", b"B", 1)):
        with pytest.raises(d.InvalidInputError, match="not a self-signed ECDSA CA"):
            members.check_ca_certificate(bad, "BankJnyhMSP")
