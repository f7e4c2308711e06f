"""Serve the GoldTicket contract to a Fabric peer as chaincode-as-a-service.

``python -m chaincode.server`` reads CHAINCODE_ID (the package id the peer knows the chaincode
by) and CHAINCODE_SERVER_ADDRESS (host:port to listen on), as Fabric's CCaaS servers do, and
serves until SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from . import GoldTicketContract
from .dispatch import new_chaincode
from .peer_fixes import build_server

LOG = logging.getLogger("goldticket.chaincode")


async def serve(chaincode_id: str, address: str) -> None:
    server, port = build_server(new_chaincode(GoldTicketContract()), chaincode_id, address)
    await server.start()
    LOG.warning("chaincode %s serving on port %d", chaincode_id, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(2)


def main() -> int:
    chaincode_id = os.environ.get("CHAINCODE_ID", "")
    address = os.environ.get("CHAINCODE_SERVER_ADDRESS", "")
    if not chaincode_id or not address:
        print("error: set CHAINCODE_ID and CHAINCODE_SERVER_ADDRESS", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(chaincode_id, address))
    return 0


if __name__ == "__main__":
    sys.exit(main())
