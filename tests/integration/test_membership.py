"""#19: a new organisation (a second bank, BankTwoMSP, made in its own folder) joins the channel
only by a config update that a MAJORITY of the member organisations' admins sign; one signed by a
minority is refused by the orderer. The join runs through ``network.py`` as an operator runs it
from a shell (``org init|export``, ``channel propose-join|sign|submit``, ``peer join``); then an
upgrade is approved by all four organisations, the Gateway picks the newcomer's peer by itself,
the network is stopped and started again with the newcomer, and the newcomer is removed by a
majority. It adds an organisation to the channel, which changes every
MAJORITY policy after it, so it runs on a network of its own (ports from
GOLDTICKET_TEST_MEMBERSHIP_PORT_BASE, default 19050), not the session's. It runs twice: on
127.0.0.1, and (as root) with every organisation a host of its own in a Linux network namespace,
the newcomer's peer in a namespace of its own at the address its folder gives (ports 300 above)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fabnet import binaries, lifecycle, membership, netns, network, nodes, probe, upgrade
from fabnet.errors import NetworkError
from fabnet.layout import Layout
from fabric_checks import restart
from fabric_protos.msp import identities_pb2

PORT_BASE = int(os.environ.get("GOLDTICKET_TEST_MEMBERSHIP_PORT_BASE") or 19050)
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["127.0.0.1", "namespaces"])
def own_network(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Layout]:
    namespaced = request.param == "namespaces"
    if namespaced and (reason := netns.available()):
        if os.environ.get("CI"):
            pytest.fail(f"CI runs as root and must run this: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("membership")
    layout = Layout.from_env(
        {
            "GOLDTICKET_DATA_DIR": str(root / "data"),
            "GOLDTICKET_ENV": "test",
            "GOLDTICKET_FABRIC_PORT_BASE": str(PORT_BASE + (300 if namespaced else 0)),
            "GOLDTICKET_FABRIC_BATCH_TIMEOUT": "100ms",
            "GOLDTICKET_FABRIC_NAMESPACES": "1" if namespaced else "0",
        }
    )
    try:
        network.up(layout, say=lambda _: None)
        yield layout
    finally:
        network.down(layout, say=lambda _: None)
        network.clean(layout, say=lambda _: None)


def _network_py(layout: Layout, *args: str) -> subprocess.CompletedProcess[str]:
    """``fabric-network/network.py`` as an operator runs it from a shell, against this network."""
    network_settings = (
        "GOLDTICKET_DATA_DIR",
        "GOLDTICKET_ENV",
        "GOLDTICKET_FABRIC_",
        "GOLDTICKET_ORGS_DIR",
        "ORDERERS",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(network_settings)}
    env.update(
        {
            "GOLDTICKET_DATA_DIR": str(layout.data_dir),
            "GOLDTICKET_ENV": "test",
            "GOLDTICKET_FABRIC_PORT_BASE": str(layout.port_base),
            "GOLDTICKET_FABRIC_NAMESPACES": "1" if layout.namespaces else "0",
            "PYTHONPATH": str(REPOSITORY),
        }
    )
    command = [sys.executable, str(REPOSITORY / "fabric-network" / "network.py"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def test_a_second_bank_joins_only_with_a_majority_of_the_members_admins(
    own_network: Layout, tmp_path: Path
) -> None:
    layout, fabric = own_network, binaries.find_binaries()
    operator, core, bank = layout.peers  # OperatorMSP, CoreMSP, BankMSP
    assert [p.msp_id for p in layout.peers] == ["OperatorMSP", "CoreMSP", "BankMSP"]
    # the second bank makes its own folder and writes its public file, from a shell; on the
    # namespaced network its peer is a host of its own (10.77.N.30)
    bank_two, public = tmp_path / "banktwo", tmp_path / "banktwo.json"
    host = f"10.77.{layout.subnet}.30" if layout.namespaces else "127.0.0.1"
    port = layout.port_base + 140
    _ok(_network_py(layout, "org", "init", "--msp", "BankTwoMSP", "--name", "Bank Two", "--dir", str(bank_two),
                    "--node", f"peer:peer0.banktwo:{host}:{port}"))  # fmt: skip
    _ok(_network_py(layout, "org", "export", "--dir", str(bank_two), "--out", str(public)))

    if layout.namespaces:  # an anchor this network's peers cannot reach is refused, nothing kept
        elsewhere, elsewhere_public = tmp_path / "elsewhere", tmp_path / "elsewhere.json"
        _ok(_network_py(layout, "org", "init", "--msp", "ElsewhereMSP", "--name", "Elsewhere", "--dir",
                        str(elsewhere), "--node", f"peer:peer0.elsewhere:127.0.0.1:{port}"))  # fmt: skip
        _ok(_network_py(layout, "org", "export", "--dir", str(elsewhere), "--out", str(elsewhere_public)))
        refused = _network_py(
            layout,
            "channel",
            "propose-join",
            "--file",
            str(elsewhere_public),
            "--out",
            str(tmp_path / "x.pb"),
        )
        assert refused.returncode == 1 and "not an address for a joining organisation" in refused.stderr
        assert not (layout.root / "imported" / "ElsewhereMSP").exists() and not (tmp_path / "x.pb").exists()

    # signed by one of three (the operator alone, as submitter): refused by the orderer
    minority = tmp_path / "minority.pb"
    proposed = _ok(
        _network_py(layout, "channel", "propose-join", "--file", str(public), "--out", str(minority))
    )
    assert "update adding BankTwoMSP" in proposed and "2 of the 3 members' admins must sign" in proposed
    assert b"PRIVATE" not in minority.read_bytes()
    refused = _network_py(layout, "channel", "submit", "--update", str(minority))
    assert refused.returncode == 1, refused.stdout
    assert "policy for [Group]  /Channel/Application not satisfied" in refused.stderr, refused.stderr
    assert "requires 2 of the 'Admins' sub-policies" in refused.stderr, refused.stderr
    assert membership.members(layout, fabric, operator, tmp_path / "after-minority") == [
        "BankMSP",
        "CoreMSP",
        "OperatorMSP",
    ]

    # signed by two of three (the core enterprise's admin from its own folder, then the
    # operator's as submitter): a new config
    update = tmp_path / "update.pb"
    _ok(_network_py(layout, "channel", "propose-join", "--file", str(public), "--out", str(update)))
    not_a_folder = _network_py(layout, "channel", "sign", "--dir", str(tmp_path), "--update", str(update))
    assert not_a_folder.returncode == 1 and "is not an organisation folder" in not_a_folder.stderr
    core_folder = layout.org_dir("CoreMSP")
    signed = _ok(_network_py(layout, "channel", "sign", "--dir", str(core_folder), "--update", str(update)))
    assert "signed by CoreMSP" in signed, signed
    submitted = _ok(_network_py(layout, "channel", "submit", "--update", str(update)))
    assert "members: BankMSP, BankTwoMSP, CoreMSP, OperatorMSP" in submitted, submitted
    assert membership.members(layout, fabric, bank, tmp_path / "after-majority") == [
        "BankMSP",
        "BankTwoMSP",
        "CoreMSP",
        "OperatorMSP",
    ]
    again = _network_py(
        layout, "channel", "propose-join", "--file", str(public), "--out", str(tmp_path / "again")
    )
    assert again.returncode == 1 and "already a member" in again.stderr, again.stderr

    # its peer, from its own folder: joins from the genesis block, catches up to the same chain,
    # approves the committed definition for itself and endorses; MAJORITY is now 3 of 4
    joined = _ok(_network_py(layout, "peer", "join", "--dir", str(bank_two)))
    assert "peer0.banktwo (BankTwoMSP) joined goldticket" in joined, joined
    fabric_peer = membership.own_peer(bank_two, port, host)
    assert (fabric_peer.msp_id, fabric_peer.name) == ("BankTwoMSP", "peer0.banktwo")
    if layout.namespaces:
        _in_own_namespace(layout, ["peer0.banktwo", "chaincode.banktwo"], f"gt{layout.subnet}-banktwo")
    own_admin = membership.own_admin_env(layout, fabric, bank_two, fabric_peer)
    operator_admin = nodes.admin_env(layout, fabric, operator)
    _same_chain(layout, fabric, own_admin, operator_admin)
    assert lifecycle.committed_definition(layout, fabric, layout.chaincode)["approvals"]["BankTwoMSP"]

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

    # an upgrade after the join is approved by every member, the newcomer's own admin (from its
    # folder) included, and committed with its peer endorsing; its peer then runs the new package
    sequence, _ = upgrade.upgrade(layout, fabric, layout.chaincode, slot=1)
    approvals = lifecycle.committed_definition(layout, fabric, layout.chaincode)["approvals"]
    assert (sequence, approvals) == (
        2,
        dict.fromkeys(("BankMSP", "BankTwoMSP", "CoreMSP", "OperatorMSP"), True),
    )
    membership.invoke_ping(
        layout, fabric, own_admin, [endorsed_by[m] for m in ("BankTwoMSP", "CoreMSP", "BankMSP")]
    )

    # the Gateway finds the newcomer's peer by itself (its anchor peer in its config group, its
    # gossip external endpoint): with the first bank's peer stopped, the only majority left
    # (operator, core, BankTwoMSP) includes it, and a Ping sent through the operator's Gateway
    # (no endorsers named) commits, on the upgraded definition
    nodes.stop(layout, "peer0.bank")
    try:
        tx_id = probe.ping(layout, timeout=120)
    finally:
        restart(layout, "peer0.bank")
    assert _endorsers(layout, fabric, tx_id, tmp_path / "ping") == ["BankTwoMSP", "CoreMSP", "OperatorMSP"]
    _same_chain(layout, fabric, nodes.admin_env(layout, fabric, bank), operator_admin)

    # the network stopped and started again (an operator's `make network-down`/`network-up`): the
    # joined organisation's peer comes back from its own folder, every member's server of the
    # upgraded package too; the newcomer's peer catches up and endorses on sequence 2
    network.down(layout, say=lambda _: None)
    if layout.namespaces:  # down leaves no namespace, the newcomer's included
        assert netns.existing(layout) == [] and not netns.bridge_exists(layout)
    network.up(layout, say=lambda _: None)
    if layout.namespaces:
        _in_own_namespace(layout, ["peer0.banktwo", "chaincode.banktwo"], f"gt{layout.subnet}-banktwo")
    _same_chain(layout, fabric, own_admin, operator_admin)
    membership.invoke_ping(
        layout, fabric, own_admin, [endorsed_by[m] for m in ("BankTwoMSP", "CoreMSP", "BankMSP")]
    )

    # removal the same way, from a shell: signed by two of four, refused; by three of four,
    # BankTwoMSP is out, and network-up no longer starts its peer from here
    out = tmp_path / "out.pb"
    proposed = _ok(_network_py(layout, "channel", "propose-remove", "--msp", "BankTwoMSP", "--out", str(out)))
    assert "update removing BankTwoMSP" in proposed and "3 of the 4 members' admins must sign" in proposed
    _ok(_network_py(layout, "channel", "sign", "--dir", str(core_folder), "--update", str(out)))
    refused = _network_py(layout, "channel", "submit", "--update", str(out))
    assert refused.returncode == 1 and "requires 3 of the 'Admins' sub-policies" in refused.stderr, (
        refused.stderr
    )
    _ok(_network_py(layout, "channel", "propose-remove", "--msp", "BankTwoMSP", "--out", str(out)))
    for signer in (core_folder, layout.org_dir("BankMSP")):
        _ok(_network_py(layout, "channel", "sign", "--dir", str(signer), "--update", str(out)))
    submitted = _ok(_network_py(layout, "channel", "submit", "--update", str(out)))
    assert "members: BankMSP, CoreMSP, OperatorMSP" in submitted, submitted
    assert "BankTwoMSP is no longer a member" in submitted, submitted
    assert "BankTwoMSP" not in membership.joined(layout, fabric)
    assert membership.members(layout, fabric, bank, tmp_path / "after-removal") == [
        "BankMSP",
        "CoreMSP",
        "OperatorMSP",
    ]
    gone = _network_py(layout, "channel", "propose-remove", "--msp", "BankTwoMSP", "--out", str(out))
    assert gone.returncode == 1 and "is not a member" in gone.stderr, gone.stderr
    # 2 of 3 is a majority again; the removed organisation's admin can no longer transact
    membership.invoke_ping(layout, fabric, operator_admin, core_and_bank)
    with pytest.raises(NetworkError, match="access denied: channel \\[goldticket\\] creator org unknown"):
        membership.invoke_ping(layout, fabric, own_admin, core_and_bank)


def _in_own_namespace(layout: Layout, names: list[str], namespace: str) -> None:
    """Each process ``names`` runs in ``namespace`` (a host of its own), none on the machine's."""
    for name in names:
        pid = (layout.pids / f"{name}.pid").read_text().split()[0]
        found = subprocess.run(["ip", "netns", "identify", pid], capture_output=True, text=True, check=True)
        assert found.stdout.strip() == namespace, (name, found.stdout, found.stderr)


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


def _endorsers(layout: Layout, fabric: binaries.Binaries, tx_id: str, workdir: Path) -> list[str]:
    """The MSP ids of the endorsements transaction ``tx_id`` committed with (read from its block,
    fetched from the orderer and decoded by configtxlator)."""
    env = nodes.admin_env(layout, fabric, layout.peers[0])
    height = membership.chain_info(env, fabric, layout.channel)["height"]
    workdir.mkdir(parents=True, exist_ok=True)
    for number in range(height - 1, max(height - 6, 0), -1):
        block = workdir / f"{number}.block"
        fetch = [fabric.tool("peer"), "channel", "fetch", str(number), str(block), "-c", layout.channel]
        lifecycle.run(fetch + lifecycle.orderer_args(layout), env, "fetching a block")
        decoded = lifecycle.run(
            [fabric.tool("configtxlator"), "proto_decode", "--type", "common.Block", "--input", str(block)],
            {"PATH": "/usr/bin:/bin"},
            "decoding a block",
        )
        for envelope in json.loads(decoded)["data"]["data"]:
            payload = envelope["payload"]
            if payload["header"]["channel_header"].get("tx_id") != tx_id:
                continue
            action = payload["data"]["actions"][0]["payload"]["action"]
            endorsers = [base64.b64decode(e["endorser"]) for e in action["endorsements"]]
            return sorted(identities_pb2.SerializedIdentity.FromString(e).mspid for e in endorsers)
    raise AssertionError(f"{tx_id} is not in the last blocks")
