#!/usr/bin/env python3
"""GoldTicket's Fabric network on this machine: ``network.py up|down|clean|status``.

``network.py org init|export|import`` makes one organisation's own folder, writes its public
file, and imports another organisation's (fabnet/orgs.py).

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

from fabnet import network, orgs, probe  # noqa: E402
from fabnet.errors import NetworkError  # noqa: E402
from fabnet.layout import Layout  # noqa: E402


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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["org"]:
        return org_main(argv[1:])
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
