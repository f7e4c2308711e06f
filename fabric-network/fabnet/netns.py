"""Each organisation on a host of its own: Linux network namespaces on one machine.

With GOLDTICKET_FABRIC_NAMESPACES=1 (root only) ``up`` makes a bridge ``gt<N>br`` holding
10.77.N.1/24 in the machine's own namespace, and per organisation a namespace ``gt<N>-<org>``
linked to the bridge by a veth pair, its end inside named eth0 with 10.77.N.<k>/24 (orderers .10,
operator .11, core .12, bank .13, BFT's other orderer organisations .21, .22, ...; an organisation
that joins later the address its own folder gives its peer, .30-.254), loopback up. Every process of that organisation (orderers,
peer, chaincode server) runs inside its namespace (``ip netns exec``), listening on that address
only, so organisations reach each other as separate hosts would: over the bridge, by address,
with TLS names per host. N comes from the port base, so networks with different bases never
share a subnet. Nothing here leaves the machine: the /24 is private and routed nowhere.
``down`` removes the namespaces and the bridge; cutting an organisation's link
(:func:`set_link`) takes it off the network the way a pulled cable would.
"""

from __future__ import annotations

import os
import subprocess

from .errors import NetworkError
from .layout import Layout, host_number

IP = "ip"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30, check=False)
    if check and result.returncode != 0:
        raise NetworkError(f"ip {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result


def available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN)"
    try:
        _ip("netns", "list")
    except (OSError, NetworkError) as error:
        return f"iproute2's ip does not work here: {error}"
    return None


def organisations(layout: Layout) -> list[str]:
    return list(layout.msp_ids)


def _prefix(layout: Layout) -> str:
    return f"gt{layout.subnet}-"


def existing(layout: Layout) -> list[str]:
    """This network's namespaces that exist now (an organisation's that joined later included)."""
    names = [line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line.strip()]
    return sorted(name for name in names if name.startswith(_prefix(layout)))


def bridge_exists(layout: Layout) -> bool:
    return _ip("link", "show", layout.bridge, check=False).returncode == 0


def _bridge(layout: Layout) -> bool:
    reason = available()
    if reason:
        raise NetworkError(f"GOLDTICKET_FABRIC_NAMESPACES=1: {reason}")
    made = False
    if not bridge_exists(layout):
        _ip("link", "add", layout.bridge, "type", "bridge")
        _ip("addr", "add", f"{layout.bridge_address}/24", "dev", layout.bridge)
        made = True
    _ip("link", "set", layout.bridge, "up")
    return made


def _host(layout: Layout, msp_id: str, host: int) -> bool:
    """The organisation's namespace at 10.77.N.<host>, linked to the bridge; False if it exists."""
    name, veth = layout.namespace(msp_id), layout.veth(msp_id, host)
    if name in existing(layout):
        return False
    inner = f"{veth}i"
    _ip("link", "del", veth, check=False)  # a leftover of an interrupted run
    _ip("netns", "add", name)
    _ip("link", "add", veth, "type", "veth", "peer", "name", inner)
    _ip("link", "set", inner, "netns", name)
    _ip("-n", name, "link", "set", inner, "name", "eth0")
    _ip("-n", name, "addr", "add", f"10.77.{layout.subnet}.{host}/24", "dev", "eth0")
    _ip("-n", name, "link", "set", "eth0", "up")
    _ip("-n", name, "link", "set", "lo", "up")
    _ip("link", "set", veth, "master", layout.bridge)
    _ip("link", "set", veth, "up")
    return True


def create(layout: Layout) -> bool:
    """Make the bridge and every organisation's namespace that is missing; True if it made any."""
    made = _bridge(layout)
    for msp_id in organisations(layout):
        made |= _host(layout, msp_id, host_number(msp_id))
    return made


def add_joined(layout: Layout, msp_id: str, address: str) -> bool:
    """The namespace of an organisation that joined later, at the address its own folder gives
    its peer (checked by :meth:`Layout.joined_host`); True if it was made now."""
    host = layout.joined_host(address)
    for name in existing(layout):
        if (
            name != layout.namespace(msp_id)
            and f" {address}/" in _ip("-n", name, "-o", "addr", "show").stdout
        ):
            raise NetworkError(f"{address} is the address of another organisation on this network ({name})")
    made = _bridge(layout)
    return _host(layout, msp_id, host) or made


def destroy(layout: Layout) -> list[str]:
    """Remove this network's namespaces (their veth pairs go with them: the inner end is gone
    with its namespace) and its bridge."""
    removed: list[str] = []
    if available() is not None:
        return removed
    for name in existing(layout):
        _ip("netns", "del", name)
        removed.append(name)
    for msp_id in organisations(layout):
        _ip("link", "del", layout.veth(msp_id), check=False)
    if bridge_exists(layout):
        _ip("link", "del", layout.bridge)
        removed.append(layout.bridge)
    return removed


def set_link(layout: Layout, msp_id: str, up: bool) -> None:
    """Cut (``up=False``) or restore the organisation's link to the bridge."""
    _ip("link", "set", layout.veth(msp_id), "up" if up else "down")


def exec_prefix(layout: Layout, msp_id: str) -> list[str]:
    """The command prefix that runs a process of ``msp_id`` in its namespace ([] on 127.0.0.1)."""
    name = layout.netns(msp_id)
    return [IP, "netns", "exec", name] if name else []
