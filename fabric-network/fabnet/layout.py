"""Where everything of one network lives and which ports it uses.

The network's state lives under ``<data dir>/fabric`` (the data directory whose operator CA
made the operator's crypto): the operator's node material, the channel's genesis block, orderer
and peer ledgers, logs, PID files and the connection profile GoldTicket reads with
GOLDTICKET_LEDGER=fabric. Every other organisation's CA key, nodes and admin live in its own
folder under ``<data dir>-orgs/<MSP>`` (GOLDTICKET_ORGS_DIR), the format of ``org init``.

Ports, from a base B (GOLDTICKET_FABRIC_PORT_BASE, default 7050): orderer i listens on B+i,
its admin API on B+10+i and operations on B+20+i; the peer of org k (0 operator, 1 core,
2 bank) listens on B+100+10k, takes chaincode connections on +1, serves operations on +2, and
its org's chaincode server listens on +3.
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from goldticket.settings import default_orgs_dir

from .errors import NetworkError

HOST = "127.0.0.1"
CHANNEL = "goldticket"
CHAINCODE = "goldticket"
CHAINCODE_VERSION = "1.0"
ORDERER_MSP = "OrdererMSP"
OPERATOR_MSP = "OperatorMSP"
CONSENSUS = ("etcdraft", "BFT")
# The peer organisations, matching docs/decisions.md: MSP id and the short name in node names.
PEER_ORGS = (("OperatorMSP", "operator"), ("CoreMSP", "core"), ("BankMSP", "bank"))


# With network namespaces (GOLDTICKET_FABRIC_NAMESPACES=1) each organisation's processes run in
# a namespace of their own, at an address of a private /24 on a bridge: its last byte here
# (BFT's further orderer organisations Orderer<i>MSP: 20 + i).
NAMESPACE_HOSTS = {ORDERER_MSP: 10, "OperatorMSP": 11, "CoreMSP": 12, "BankMSP": 13}
# An organisation that joins later has the address its own folder gives its peer (``org init
# --node peer:peer0.<org>:10.77.N.<k>:<port>``), k in this range, in a namespace of its own.
JOINED_HOSTS = range(30, 255)


def orderer_msp(index: int, consensus: str) -> str:
    """The organisation running orderer ``index``: with SmartBFT each orderer is another
    organisation's (OrdererMSP, Orderer1MSP, Orderer2MSP, ...), so no party holds a quorum; a
    raft cluster trusts its leader anyway and stays one organisation's."""
    return ORDERER_MSP if consensus != "BFT" or index == 0 else f"Orderer{index}MSP"


def host_number(msp_id: str) -> int:
    if msp_id in NAMESPACE_HOSTS:
        return NAMESPACE_HOSTS[msp_id]
    match = re.fullmatch(r"Orderer(\d)MSP", msp_id)
    if match is None:
        raise NetworkError(f"{msp_id} has no address in the namespaced layout")
    return 20 + int(match.group(1))


@dataclasses.dataclass(frozen=True)
class Orderer:
    index: int
    port: int
    admin_port: int
    operations_port: int
    host: str = HOST
    msp_id: str = ORDERER_MSP

    @property
    def name(self) -> str:
        return f"orderer{self.index}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclasses.dataclass(frozen=True)
class Peer:
    msp_id: str
    org: str
    port: int
    host: str = HOST

    @property
    def name(self) -> str:
        return f"peer0.{self.org}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def chaincode_port(self) -> int:
        return self.port + 1

    @property
    def operations_port(self) -> int:
        return self.port + 2

    @property
    def chaincode_server_port(self) -> int:
        return self.port + 3


@dataclasses.dataclass(frozen=True)
class Layout:
    data_dir: Path
    root: Path
    orderers: tuple[Orderer, ...]
    peers: tuple[Peer, ...]
    batch_timeout: str = "250ms"
    time_window: str = "15m"
    consensus: str = "etcdraft"  # or "BFT" (SmartBFT, Fabric v3)
    channel: str = CHANNEL
    chaincode: str = CHAINCODE
    # the other organisations' own folders (GOLDTICKET_ORGS_DIR, default <data dir>-orgs)
    orgs_root: Path | None = None
    port_base: int = 7050
    # every organisation in its own Linux network namespace (GOLDTICKET_FABRIC_NAMESPACES=1)
    namespaces: bool = False

    @classmethod
    def create(
        cls,
        data_dir: Path,
        *,
        root: Path | None = None,
        orderers: int = 1,
        port_base: int = 7050,
        batch_timeout: str = "250ms",
        time_window: str = "15m",
        consensus: str = "etcdraft",
        orgs_root: Path | None = None,
        namespaces: bool = False,
    ) -> Layout:
        if consensus not in CONSENSUS:
            raise NetworkError(f"the consensus must be one of {', '.join(CONSENSUS)}")
        if consensus == "etcdraft" and orderers not in (1, 3, 5):
            raise NetworkError("ORDERERS must be 1, 3 or 5 (a raft cluster of an odd size)")
        if consensus == "BFT" and orderers not in (4, 7):
            raise NetworkError("ORDERERS must be 4 or 7 for BFT (3f+1 orderers tolerate f faults)")
        if not 1024 <= port_base <= 65000:
            raise NetworkError("the port base must be between 1024 and 65000")
        data_dir = Path(data_dir).resolve()

        def host(msp_id: str) -> str:
            return namespace_address(port_base, msp_id) if namespaces else HOST

        return cls(
            data_dir=data_dir,
            root=(root or data_dir / "fabric").resolve(),
            orderers=tuple(
                Orderer(
                    i,
                    port_base + i,
                    port_base + 10 + i,
                    port_base + 20 + i,
                    host(orderer_msp(i, consensus)),
                    orderer_msp(i, consensus),
                )
                for i in range(orderers)
            ),
            peers=tuple(
                Peer(msp_id, org, port_base + 100 + 10 * k, host(msp_id))
                for k, (msp_id, org) in enumerate(PEER_ORGS)
            ),
            port_base=port_base,
            namespaces=namespaces,
            batch_timeout=batch_timeout,
            time_window=time_window,
            consensus=consensus,
            orgs_root=Path(orgs_root or default_orgs_dir(data_dir)).resolve(),
        )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Layout:
        env = dict(os.environ if environ is None else environ)
        try:
            orderers = int(env.get("ORDERERS") or 1)
            port_base = int(env.get("GOLDTICKET_FABRIC_PORT_BASE") or 7050)
        except ValueError as error:
            raise NetworkError("ORDERERS and GOLDTICKET_FABRIC_PORT_BASE must be whole numbers") from error
        data_dir = Path(env.get("GOLDTICKET_DATA_DIR") or "var")
        root = env.get("GOLDTICKET_FABRIC_DIR")
        # Peers refuse proposals stamped outside a window around their clock (15 minutes). In
        # dev and test GoldTicket's clock may be set (GOLDTICKET_TODAY) to exercise maturity and
        # settlement, so those networks accept any time within ten years; prod keeps 15 minutes.
        environment = env.get("GOLDTICKET_ENV") or "prod"
        window = env.get("GOLDTICKET_FABRIC_TIME_WINDOW") or ("15m" if environment == "prod" else "87600h")
        return cls.create(
            data_dir,
            root=Path(root) if root else None,
            orderers=orderers,
            port_base=port_base,
            batch_timeout=env.get("GOLDTICKET_FABRIC_BATCH_TIMEOUT") or "250ms",
            time_window=window,
            consensus=env.get("GOLDTICKET_FABRIC_CONSENSUS") or "etcdraft",
            orgs_root=Path(orgs) if (orgs := env.get("GOLDTICKET_ORGS_DIR")) else None,
            namespaces=(env.get("GOLDTICKET_FABRIC_NAMESPACES") or "0").lower() in ("1", "true", "yes"),
        )

    # ------------------------------------------------------------ namespaces
    @property
    def subnet(self) -> int:
        return subnet_index(self.port_base)

    @property
    def bridge(self) -> str:
        return f"gt{self.subnet}br"

    @property
    def bridge_address(self) -> str:
        return f"10.77.{self.subnet}.1"

    def namespace(self, msp_id: str) -> str:
        return f"gt{self.subnet}-{msp_id.removesuffix('MSP').lower()}"

    def veth(self, msp_id: str, host: int | None = None) -> str:
        """The root-side end of the organisation's link (cut it to take the organisation off);
        ``host``: the last byte of its address (a joined organisation's, from its endpoint)."""
        return f"gt{self.subnet}v{host_number(msp_id) if host is None else host}"

    def joined_host(self, address: str) -> int:
        """The last byte of a joined organisation's address on this namespaced network: it must
        be inside the network's /24, in JOINED_HOSTS (below are the network's own)."""
        prefix = f"10.77.{self.subnet}."
        last = address.removeprefix(prefix)
        if not address.startswith(prefix) or not last.isdigit() or int(last) not in JOINED_HOSTS:
            raise NetworkError(
                f"{address} is not an address for a joining organisation on this network: its "
                f"organisations are hosts of {prefix}0/24, a newcomer's peer one of "
                f"{prefix}{JOINED_HOSTS[0]}-{JOINED_HOSTS[-1]}"
            )
        return int(last)

    def netns(self, msp_id: str) -> str | None:
        """The namespace the organisation's processes run in, None on 127.0.0.1."""
        return self.namespace(msp_id) if self.namespaces else None

    def tls_hosts(self, msp_id: str) -> tuple[str, ...]:
        """Names a node's TLS certificate is valid for: loopback and its namespace address, so
        the same crypto serves both modes."""
        return ("localhost", HOST, namespace_address(self.port_base, msp_id))

    # ----------------------------------------------------------------- paths
    @property
    def crypto(self) -> Path:
        return self.root / "crypto"

    def org_dir(self, msp_id: str) -> Path:
        """The operator's node material lives with the network under its data directory; every
        other organisation's (its CA key, nodes and admin) in that organisation's own folder."""
        if msp_id == OPERATOR_MSP:
            return self.crypto / msp_id
        return self.organisations / msp_id

    @property
    def organisations(self) -> Path:
        return self.orgs_root or default_orgs_dir(self.data_dir)

    def org_msp(self, msp_id: str) -> Path:
        """The organisation's MSP as the channel config knows it (CA certs and NodeOUs)."""
        return self.org_dir(msp_id) / "msp"

    def node_dir(self, msp_id: str, name: str) -> Path:
        return self.org_dir(msp_id) / "nodes" / name

    def admin_dir(self, msp_id: str) -> Path:
        return self.org_dir(msp_id) / "admin"

    def ca_pem(self, msp_id: str) -> Path:
        return self.org_msp(msp_id) / "cacerts" / "ca.pem"

    @property
    def genesis_block(self) -> Path:
        return self.root / "channel" / f"{self.channel}.block"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pids(self) -> Path:
        return self.root / "pids"

    @property
    def ledgers(self) -> Path:
        return self.root / "ledgers"

    @property
    def package(self) -> Path:
        return self.root / "chaincode" / f"{self.chaincode}.tar.gz"

    @property
    def profile(self) -> Path:
        return self.root / "connection.json"

    @property
    def msp_ids(self) -> tuple[str, ...]:
        return (*self.orderer_msp_ids, *(peer.msp_id for peer in self.peers))

    @property
    def orderer_msp_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(orderer.msp_id for orderer in self.orderers))


def subnet_index(port_base: int) -> int:
    """The third byte of the network's private /24 (10.77.N.0/24), from its port base, so two
    networks with different port bases (multiples of 50 within 12,500 of each other) use different
    subnets, bridges and namespaces."""
    return (port_base // 50) % 250 + 1


def namespace_address(port_base: int, msp_id: str) -> str:
    return f"10.77.{subnet_index(port_base)}.{host_number(msp_id)}"
