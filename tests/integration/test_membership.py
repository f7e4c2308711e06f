"""#19: a new organisation (a second bank, BankTwoMSP, made in its own folder) joins the channel
only by a config update that a MAJORITY of the member organisations' admins sign; one signed by a
minority is refused by the orderer. It adds an organisation to the channel, which changes every
MAJORITY policy after it, so it runs on a network of its own (ports from
GOLDTICKET_TEST_MEMBERSHIP_PORT_BASE, default 19050), not the session's."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fabnet import binaries, lifecycle, membership, network, nodes, orgs, probe
from fabnet.errors import NetworkError
from fabnet.layout import Layout
from fabric_checks import restart

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

    # its peer, from its own folder: joins from the genesis block, catches up to the same chain,
    # approves the committed definition for itself and endorses; MAJORITY is now 3 of 4
    fabric_peer = membership.own_peer(bank_two, PORT_BASE + 140)
    assert (fabric_peer.msp_id, fabric_peer.name) == ("BankTwoMSP", "peer0.banktwo")
    package_id = lifecycle.package_id(layout, fabric)
    membership.start_own_peer(layout, fabric, bank_two, fabric_peer, package_id)
    membership.join_own_peer(layout, fabric, bank_two, fabric_peer, tmp_path / "join")
    own_admin = membership.own_admin_env(layout, fabric, bank_two, fabric_peer)
    operator_admin = nodes.admin_env(layout, fabric, operator)
    _same_chain(layout, fabric, own_admin, operator_admin)
    membership.approve_committed_definition(layout, fabric, bank_two, fabric_peer, package_id)

    tls = {p.msp_id: layout.ca_pem(p.msp_id) for p in layout.peers}
    tls["BankTwoMSP"] = bank_two / "msp" / "tlscacerts" / "ca.pem"
    endorsed_by = {p.msp_id: (p, tls[p.msp_id]) for p in (*layout.peers, fabric_peer)}
    # three of four, the newcomer among them: committed VALID
    deadline = time.monotonic() + 60
    while True:  # its peer learns the approval from a block: retried until it runs the chaincode
        try:
            membership.invoke_ping(
                layout, fabric, own_admin, [endorsed_by[m] for m in ("BankTwoMSP", "CoreMSP", "BankMSP")]
            )
            break
        except NetworkError as error:
            if time.monotonic() > deadline or "ENDORSEMENT_POLICY_FAILURE" in str(error):
                raise
            time.sleep(1)
    # two of four (what was a majority of three): refused at validation
    with pytest.raises(NetworkError, match="ENDORSEMENT_POLICY_FAILURE"):
        membership.invoke_ping(
            layout, fabric, own_admin, [endorsed_by[m] for m in ("BankTwoMSP", "OperatorMSP")]
        )
    # the operator's peer alone, sent by the operator's admin: refused at validation
    with pytest.raises(NetworkError, match="ENDORSEMENT_POLICY_FAILURE"):
        membership.invoke_ping(layout, fabric, operator_admin, [endorsed_by["OperatorMSP"]])
    _same_chain(layout, fabric, own_admin, operator_admin)
    # the core's and the bank's peers: 2 of 4, not a majority while BankTwoMSP is a member
    core_and_bank = [endorsed_by["CoreMSP"], endorsed_by["BankMSP"]]
    with pytest.raises(NetworkError, match="ENDORSEMENT_POLICY_FAILURE"):
        membership.invoke_ping(layout, fabric, operator_admin, core_and_bank)

    # the Gateway finds the newcomer's peer by itself: with the first bank's peer stopped, the
    # only majority left (operator, core, BankTwoMSP) includes it, and a Ping sent through the
    # operator's Gateway (no endorsers named) commits
    nodes.stop(layout, "peer0.bank")
    try:
        probe.ping(layout, timeout=120)
    finally:
        restart(layout, "peer0.bank")
    _same_chain(layout, fabric, nodes.admin_env(layout, fabric, bank), operator_admin)

    # removal the same way: signed by two of four, refused; by three of four, BankTwoMSP is out
    envelope = membership.remove_organisation_update(
        layout, fabric, operator, "BankTwoMSP", tmp_path / "out-2"
    )
    membership.sign(layout, fabric, core, envelope)
    with pytest.raises(NetworkError, match="requires 3 of the 'Admins' sub-policies"):
        membership.submit(layout, fabric, operator, envelope)
    envelope = membership.remove_organisation_update(
        layout, fabric, operator, "BankTwoMSP", tmp_path / "out-3"
    )
    membership.sign(layout, fabric, core, envelope)
    membership.sign(layout, fabric, bank, envelope)
    membership.submit(layout, fabric, operator, envelope)
    assert membership.members(layout, fabric, bank, tmp_path / "after-removal") == [
        "BankMSP",
        "CoreMSP",
        "OperatorMSP",
    ]
    # 2 of 3 is a majority again; the removed organisation's admin can no longer transact
    membership.invoke_ping(layout, fabric, operator_admin, core_and_bank)
    with pytest.raises(NetworkError, match="access denied: channel \\[goldticket\\] creator org unknown"):
        membership.invoke_ping(layout, fabric, own_admin, core_and_bank)


def _same_chain(
    layout: Layout, fabric: binaries.Binaries, one: dict[str, str], other: dict[str, str]
) -> None:
    """Both peers reach the same height with the same current block hash (within 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            mine = membership.chain_info(one, fabric, layout.channel)
            theirs = membership.chain_info(other, fabric, layout.channel)
        except NetworkError:  # a peer just restarted may not take connections yet
            mine, theirs = None, {}
        if mine == theirs:
            return
        assert time.monotonic() < deadline, (mine, theirs)
        time.sleep(0.5)
