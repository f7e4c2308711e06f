"""The Prometheus configuration and the Grafana dashboard shipped in deploy/: they parse, the
shipped scrape targets are those of the default network layout (what `goldticket operations
prometheus-config` writes from a connection profile), and every metric the dashboard and the
alert rules use is one GoldTicket or Fabric exposes (ours checked against a real exposition
here; Fabric's on a real network in tests/integration/test_operations_scrape.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import deploy_metrics
import yaml
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from goldticket.cli import main
from goldticket.services import operations
from goldticket.settings import Settings
from goldticket.signing import metrics as signer_metrics

REPOSITORY = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPOSITORY / "fabric-network"))
from fabnet.layout import Layout  # noqa: E402

DEPLOY = REPOSITORY / "deploy"
# Fabric's metric names (core/ledger/kvledger/metrics.go, common/ledger/blkstorage/metrics.go,
# core/endorser/metrics.go, orderer/consensus/etcdraft/metrics.go), scraped for real by the
# integration test
FABRIC = {
    "ledger_blockchain_height",
    "ledger_transaction_count",
    "ledger_block_processing_time_sum",
    "ledger_block_processing_time_count",
    "ledger_blockstorage_and_pvtdata_commit_time_sum",
    "ledger_statedb_commit_time_sum",
    "endorser_endorsement_failures",
    "consensus_etcdraft_is_leader",
}


def profile_of(layout: Layout, path: Path) -> Path:
    """A connection profile naming the layout's nodes as `make network-up` writes it."""
    nodes = {
        "channel": "goldticket",
        "chaincode": "goldticket",
        "peers": [
            {
                "name": p.name,
                "msp_id": p.msp_id,
                "address": p.address,
                "tls_ca_pem": "",
                "operations": f"http://127.0.0.1:{p.operations_port}",
            }
            for p in layout.peers
        ],
        "orderers": [
            {
                "name": o.name,
                "address": o.address,
                "tls_ca_pem": "",
                "operations": f"http://127.0.0.1:{o.operations_port}",
            }
            for o in layout.orderers
        ],
    }
    path.write_text(json.dumps(nodes))
    return path


def test_the_shipped_scrape_configuration_is_the_default_networks(tmp_path: Path) -> None:
    shipped = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    layout = Layout.create(tmp_path, orderers=3)
    settings = Settings(
        data_dir=tmp_path, ledger="fabric", fabric_profile=profile_of(layout, tmp_path / "p.json")
    )
    written = operations.prometheus_config(settings, web="127.0.0.1:8000")
    assert shipped == written
    jobs = {job["job_name"]: job for job in shipped["scrape_configs"]}
    assert set(jobs) == {"goldticket-web", "goldticket-signer", "fabric-peers", "fabric-orderers"}
    peers = [c["targets"][0] for c in jobs["fabric-peers"]["static_configs"]]
    assert peers == [f"127.0.0.1:{p.operations_port}" for p in layout.peers]
    rules = yaml.safe_load((DEPLOY / "prometheus" / "goldticket-alerts.yml").read_text())
    assert shipped["rule_files"] == ["goldticket-alerts.yml"]
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"FabricNodeDown", "NoNewBlock", "ReadModelBehind", "SigningGatewayDown"} <= alerts


def test_the_cli_writes_the_configuration_of_the_profile(tmp_path: Path) -> None:
    layout = Layout.create(tmp_path, orderers=1, port_base=17050)
    env = {
        "GOLDTICKET_DATA_DIR": str(tmp_path),
        "GOLDTICKET_LEDGER": "fabric",
        "GOLDTICKET_FABRIC_PROFILE": str(profile_of(layout, tmp_path / "p.json")),
    }
    result = CliRunner().invoke(main, ["operations", "prometheus-config", "--web", "10.0.0.5:8000"], env=env)
    assert result.exit_code == 0, result.output
    config = yaml.safe_load(result.output)
    targets = [t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]]
    assert targets == [
        "10.0.0.5:8000",
        "10.0.0.5:8000",  # the signing gateway's metrics, through the web service
        "127.0.0.1:17152",
        "127.0.0.1:17162",
        "127.0.0.1:17172",
        "127.0.0.1:17070",
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"peers": [{"name": "p", "operations": "ftp://x"}]}')
    env["GOLDTICKET_FABRIC_PROFILE"] = str(broken)
    result = CliRunner().invoke(main, ["operations", "prometheus-config"], env=env)
    assert result.exit_code != 0 and "http:// or https://" in result.output


def test_every_metric_of_the_dashboard_and_the_rules_exists(tmp_path: Path) -> None:
    class NoCards:
        def all_cards(self) -> list[object]:
            return []

    signer_metrics.signed("proposal")
    signer_metrics.refused("wrong_pin")
    ours = {
        sample.name
        for family in text_string_to_metric_families(signer_metrics.exposition(NoCards()).decode())
        for sample in family.samples
    }
    ours |= {
        "goldticket_http_requests_total",
        "goldticket_http_request_seconds_bucket",
    }  # web/observability.py
    ours |= {"goldticket_follower_lag_blocks", "goldticket_ledger_height"}
    from web import observability

    assert observability.REQUESTS._name == "goldticket_http_requests"  # noqa: SLF001
    assert observability.LATENCY._name == "goldticket_http_request_seconds"  # noqa: SLF001
    used = deploy_metrics.used_metrics() - {"up"}
    assert used - ours - FABRIC == set(), used - ours - FABRIC
    board = json.loads((DEPLOY / "grafana" / "goldticket.json").read_text())
    assert board["uid"] == "goldticket" and board["time"]["from"] == "now-1h"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
