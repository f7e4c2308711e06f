"""#19: a new organisation (a second bank, BankTwoMSP, made in its own folder) joins the channel
only by a config update that a MAJORITY of the member organisations' admins sign; one signed by a
minority is refused by the orderer. It adds an organisation to the channel, which changes every
MAJORITY policy after it, so it runs on a network of its own (ports from
GOLDTICKET_TEST_MEMBERSHIP_PORT_BASE, default 19050), not the session's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fabnet import binaries, membership, network, orgs
from fabnet.errors import NetworkError
from fabnet.layout import Layout

PORT_BASE = int(os.environ.get("GOLDTICKET_TEST_MEMBERSHIP_PORT_BASE") or 19050)


@pytest.fixture(scope="module")
def own_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    root = tmp_path_factory.mktemp("membership")
    layout = Layout.from_env(
        {
            "GOLDTICKET_DATA_DIR": str(root / "data"),
            "GOLDTICKET_ENV": "test",
            "GOLDTICKET_FABRIC_PORT_BASE": str(PORT_BASE),
            "GOLDTICKET_FABRIC_BATCH_TIMEOUT": "100ms",
        }
    )
    try:
        network.up(layout, say=lambda _: None)
        yield layout
    finally:
        network.down(layout, say=lambda _: None)
        network.clean(layout, say=lambda _: None)


def test_a_second_bank_joins_only_with_a_majority_of_the_members_admins(
    own_network: Layout, tmp_path: Path
) -> None:
    layout, fabric = own_network, binaries.find_binaries()
    operator, core, bank = layout.peers  # OperatorMSP, CoreMSP, BankMSP
    assert [p.msp_id for p in layout.peers] == ["OperatorMSP", "CoreMSP", "BankMSP"]
    # the second bank makes its own folder; the operator imports its public file only
    bank_two, operator_folder = tmp_path / "banktwo", tmp_path / "operator"
    orgs.init(
        bank_two,
        "BankTwoMSP",
        "Bank Two",
        [orgs.Node("peer0.banktwo", "peer", f"127.0.0.1:{PORT_BASE + 140}")],
    )
    orgs.init(operator_folder, "OperatorMSP", "GoldTicket Operator", [])
    public = json.loads(json.dumps(orgs.export(bank_two)))
    orgs.import_public(operator_folder, public)
    imported = operator_folder / "imported" / "BankTwoMSP"
    group = membership.organisation_group(fabric, imported, "BankTwoMSP", PORT_BASE + 140)
    assert b"PRIVATE" not in json.dumps(group).encode()

    # signed by one of three (the operator alone, as submitter): refused by the orderer
    work = tmp_path / "minority"
    envelope = membership.add_organisation_update(layout, fabric, operator, group, "BankTwoMSP", work)
    with pytest.raises(NetworkError) as refused:
        membership.submit(layout, fabric, operator, envelope)
    assert "policy for [Group]  /Channel/Application not satisfied" in str(refused.value), refused.value
    assert "requires 2 of the 'Admins' sub-policies" in str(refused.value), refused.value
    assert membership.members(layout, fabric, operator, tmp_path / "after-minority") == [
        "BankMSP",
        "CoreMSP",
        "OperatorMSP",
    ]

    # signed by two of three (the core enterprise's admin, then the operator's as submitter): a new config
    work = tmp_path / "majority"
    envelope = membership.add_organisation_update(layout, fabric, operator, group, "BankTwoMSP", work)
    membership.sign(layout, fabric, core, envelope)
    membership.submit(layout, fabric, operator, envelope)
    assert membership.members(layout, fabric, bank, tmp_path / "after-majority") == [
        "BankMSP",
        "BankTwoMSP",
        "CoreMSP",
        "OperatorMSP",
    ]
    with pytest.raises(NetworkError, match="already a member"):
        membership.add_organisation_update(layout, fabric, operator, group, "BankTwoMSP", tmp_path / "again")
