#!/usr/bin/env python3
"""GoldTicket's Fabric network on this machine: ``network.py up|down|clean|status``.

``network.py org init|export|import`` makes one organisation's own folder, writes its public
file, and imports another organisation's (fabnet/orgs.py). A new organisation joins the running
network (fabnet/membership.py, docs/fabric.md): ``network.py channel propose-join --file <its
public file> --out <update.pb>``, ``network.py channel sign --dir <a member's own folder> --update
<update.pb>`` by each signing member's admin, ``network.py channel submit --update <update.pb>``
(the operator's admin signs too), then, from the newcomer's folder, ``network.py peer join --dir
<its folder>``. A member leaves the same way: ``network.py channel propose-remove --msp <its MSP
id> --out <update.pb>``, then sign and submit by a majority.

Settings (environment): GOLDTICKET_DATA_DIR (whose organisation CAs make the crypto; the network
lives in its fabric/ folder, or GOLDTICKET_FABRIC_DIR), ORDERERS (1, 3 or 5 raft orderers; 4 or
7 with GOLDTICKET_FABRIC_CONSENSUS=BFT for SmartBFT), GOLDTICKET_FABRIC_PORT_BASE (default 7050), GOLDTICKET_FABRIC_BATCH_TIMEOUT (default 250ms),
FABRIC_BIN (a Fabric 3.1.x release's bin/ folder; else ../shared/fabric's archive is used),
GOLDTICKET_FABRIC_NAMESPACES (1: each organisation in a network namespace of its own; 0: all on
127.0.0.1; unset: what the network was made with, and for a new network 1 where this runs as
root with iproute2, else 0).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import json  # noqa: E402

from fabnet import binaries, membership, network, orgs, probe  # noqa: E402
from fabnet.errors import NetworkError  # noqa: E402
from fabnet.layout import OPERATOR_MSP, Layout  # noqa: E402


def org_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="network.py org", description="one organisation's own folder")
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="make the organisation's folder: CA, MSP, nodes, admin")
    init.add_argument("--msp", required=True)
    init.add_argument("--name", required=True, help="the organisation's name (the CA's O=)")
    init.add_argument("--dir", required=True, type=Path)
    init.add_argument("--node", action="append", default=[], help="role:name:host:port (repeatable)")
    export = sub.add_parser("export", help="write the organisation's public file")
    export.add_argument("--dir", required=True, type=Path)
    export.add_argument("--out", required=True, type=Path)
    imp = sub.add_parser("import", help="import another organisation's public file")
    imp.add_argument("--dir", required=True, type=Path)
    imp.add_argument("--file", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            orgs.init(args.dir, args.msp, args.name, [orgs.Node.parse(text) for text in args.node])
            print(f"{args.msp}: {args.dir}")
        elif args.command == "export":
            args.out.write_text(json.dumps(orgs.export(args.dir), indent=1), encoding="utf-8")
            print(f"public file: {args.out}")
        else:
            try:
                data = json.loads(args.file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as error:
                raise NetworkError(f"{args.file}: not a readable JSON file") from error
            print(f"imported {orgs.import_public(args.dir, data)}")
    except NetworkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise NetworkError(f"{path}: not a readable JSON file") from error
    if not isinstance(data, dict):
        raise NetworkError(f"{path}: not an organisation's public file")
    return data


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise NetworkError(f"{path}: no such file")
    return path


def channel_main(argv: list[str]) -> int:
    """An organisation joins or leaves by a config update a majority of the members' admins sign."""
    parser = argparse.ArgumentParser(prog="network.py channel", description=channel_main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    propose = sub.add_parser("propose-join", help="the unsigned update adding an organisation")
    propose.add_argument("--file", required=True, type=Path, help="the newcomer's public file (org export)")
    propose.add_argument("--out", required=True, type=Path, help="where the update envelope is written")
    remove = sub.add_parser("propose-remove", help="the unsigned update removing an organisation")
    remove.add_argument("--msp", required=True, help="the member organisation to remove")
    remove.add_argument("--out", required=True, type=Path, help="where the update envelope is written")
    for name, what in (("sign", "sign the update as"), ("submit", "sign and send the update as")):
        command = sub.add_parser(name, help=f"{what} one organisation's admin")
        command.add_argument("--update", required=True, type=Path)
        who = command.add_mutually_exclusive_group(required=name == "sign")
        who.add_argument("--dir", type=Path, help="the organisation's own folder (its admin's key)")
        who.add_argument("--msp", help="one of the network's organisations (submit: OperatorMSP by default)")
    args = parser.parse_args(argv)
    try:
        layout = network.with_recorded_mode(Layout.from_env(), os.environ)
        fabric = binaries.find_binaries()
        if args.command == "propose-join":
            msp_id, count = membership.propose_join(layout, fabric, _read_json(args.file), args.out)
            print(
                f"update adding {msp_id}: {args.out}; {count // 2 + 1} of the {count} members' admins must sign"
            )
            return 0
        if args.command == "propose-remove":
            count = membership.propose_remove(layout, fabric, args.msp, args.out)
            print(
                f"update removing {args.msp}: {args.out}; {count // 2 + 1} of the {count} members' admins must sign"
            )
            return 0
        update = _existing(args.update)
        admin = membership.signing_admin(layout, fabric, args.dir, args.msp or OPERATOR_MSP)
        if args.command == "sign":
            membership.sign_as(fabric, admin, update)
            print(f"signed by {', '.join(membership.signers(fabric, update))}")
        else:
            membership.submit_as(layout, fabric, admin, update)
            for msp_id in membership.forget_departed(layout, fabric):
                print(f"{msp_id} is no longer a member: its peer is not started from here again")
            print(
                f"submitted; members: {', '.join(membership.members(layout, fabric, layout.peers[0], layout.root / 'work' / 'submit'))}"
            )
    except NetworkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def peer_main(argv: list[str]) -> int:
    """An organisation that is a member now starts its own peer and joins it."""
    parser = argparse.ArgumentParser(prog="network.py peer", description=peer_main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    join = sub.add_parser("join", help="start the organisation's peer from its folder and join the channel")
    join.add_argument("--dir", required=True, type=Path, help="the organisation's own folder")
    args = parser.parse_args(argv)
    try:
        layout = network.with_recorded_mode(Layout.from_env(), os.environ)
        peer, info = membership.join_peer(layout, binaries.find_binaries(), args.dir)
        print(f"{peer.name} ({peer.msp_id}) joined {layout.channel} at height {info.get('height')}")
    except NetworkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"org": org_main, "channel": channel_main, "peer": peer_main}
    if argv[:1] and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(prog="network.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "clean", "status"])
    args = parser.parse_args(argv)
    try:
        layout = network.with_recorded_mode(Layout.from_env(), os.environ)
        if args.command == "up":
            network.up(layout, probe=lambda lay: print(f"    ping {probe.ping(lay)}") or None)
        elif args.command == "down":
            network.down(layout)
        elif args.command == "clean":
            network.clean(layout)
        else:
            return 0 if network.status(layout) else 3
    except NetworkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
