#!/usr/bin/env python3
"""GoldTicket's Fabric network on this machine: ``network.py up|down|clean|status``.

Settings (environment): GOLDTICKET_DATA_DIR (whose organisation CAs make the crypto; the network
lives in its fabric/ folder, or GOLDTICKET_FABRIC_DIR), ORDERERS (1, 3 or 5 raft orderers),
GOLDTICKET_FABRIC_PORT_BASE (default 7050), GOLDTICKET_FABRIC_BATCH_TIMEOUT (default 250ms),
FABRIC_BIN (a Fabric 3.1.x release's bin/ folder; else ../shared/fabric's archive is used).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fabnet import network, probe  # noqa: E402
from fabnet.errors import NetworkError  # noqa: E402
from fabnet.layout import Layout  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="network.py", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "clean", "status"])
    args = parser.parse_args(argv)
    try:
        layout = Layout.from_env()
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
