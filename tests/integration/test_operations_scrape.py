"""On a real Fabric network: every target of the Prometheus configuration GoldTicket writes for
that network (the web service, the signing gateway's metrics port, each peer and orderer
operations endpoint) answers with Prometheus text that prometheus_client parses; the metrics the
dashboard uses are there; and the console sees every node up with the chain's figures."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import deploy_metrics
import pytest
from prometheus_client.parser import text_string_to_metric_families
from support import free_port
from werkzeug.serving import make_server

from goldticket.services import operations, setup
from goldticket.services.portal import Portal
from goldticket.settings import Settings
from web import create_app

pytestmark = pytest.mark.integration
REPOSITORY = Path(__file__).resolve().parents[2]
# metrics a Fabric vector exports only once it has a label value: an endorsement refused, a
# refusal of the signing gateway; a quiet test network may not have one yet
LATE = {"endorser_endorsement_failures", "goldticket_signer_refusals_total"}


@pytest.fixture
def deployment(settings: Settings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The portal on the network, served on a port, and a signing gateway process with its
    metrics port (`goldticket signer serve --metrics-port`)."""
    settings = dataclasses.replace(settings, password_memory_kib=8192)
    setup.init_portal(settings).close()
    metrics_port = free_port()
    env = {
        **os.environ,
        "GOLDTICKET_DATA_DIR": str(settings.data_dir),
        "GOLDTICKET_ENV": settings.env,
        "GOLDTICKET_OPERATOR_PASSWORD": settings.operator_password,
        "GOLDTICKET_CARD_KDF_N": str(settings.card_kdf_n),
        "GOLDTICKET_CARD_BACKEND": settings.card_backend,
        "GOLDTICKET_SIGNER_METRICS_PORT": str(metrics_port),
        "GOLDTICKET_LEDGER": settings.ledger,
        "GOLDTICKET_CHANNEL": settings.channel,
        "GOLDTICKET_CHAINCODE": settings.chaincode,
        "GOLDTICKET_FABRIC_PROFILE": str(settings.fabric_profile_path),
    }
    log = (tmp_path / "signer.log").open("wb")
    signer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "goldticket.cli",
            "signer",
            "serve",
            "--socket",
            str(tmp_path / "signer.sock"),
        ],
        env=env,
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and signer.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", metrics_port)) == 0:
                break
        time.sleep(0.1)
    assert signer.poll() is None, (tmp_path / "signer.log").read_text()[-2000:]
    # the portal signs through that gateway, as under `goldticket serve`
    portal = Portal.open(dataclasses.replace(settings, signer_url=f"unix://{tmp_path / 'signer.sock'}"))
    app = create_app({"GOLDTICKET_PORTAL": portal, "FOLLOW_SECONDS": 0, "SECRET_KEY": "scrape test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "portal": portal,
            "web": f"127.0.0.1:{server.server_port}",
            "signer": f"127.0.0.1:{metrics_port}",
        }
    finally:
        server.shutdown()
        signer.terminate()
        signer.wait(15)
        log.close()
        portal.close()


def scrape(scheme: str, target: str, path: str) -> dict[str, set[str]]:
    """The target's metric samples (name -> label sets as JSON), parsed by prometheus_client."""
    with urllib.request.urlopen(f"{scheme}://{target}{path}", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    found: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, set()).add(json.dumps(sample.labels, sort_keys=True))
    return found


def test_every_scrape_target_of_the_generated_configuration_answers(deployment: dict[str, Any]) -> None:
    portal: Portal = deployment["portal"]
    settings = portal.settings
    portal.platform.submit(
        portal.platform.actor("operator"),
        "RegisterMember",
        {"id": "scrape1", "name": "scrape1", "role": "supplier", "msp_id": "OperatorMSP"},
        pin=settings.operator_pin,
    )
    with urllib.request.urlopen(f"http://{deployment['web']}/healthz", timeout=10) as answer:
        assert answer.status == 200  # a request counted, so the request metrics have a sample
    config = operations.prometheus_config(settings, web=deployment["web"])
    # and the gateway's own metrics port (`--signer-metrics`) beside the web service's /metrics/signer
    direct = operations.prometheus_config(
        settings, web=deployment["web"], signer_metrics=deployment["signer"]
    )
    config["scrape_configs"] += [
        job for job in direct["scrape_configs"] if job["job_name"] == "goldticket-signer"
    ]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"goldticket-web", "goldticket-signer", "fabric-peers", "fabric-orderers"}
    every: dict[str, set[str]] = {}
    scraped = []
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                found = scrape(job.get("scheme", "http"), target, job.get("metrics_path", "/metrics"))
                scraped.append((job["job_name"], target, len(found)))
                for name, labels in found.items():
                    every.setdefault(name, set()).update(labels)
                if job["job_name"].startswith("fabric-"):
                    heights = found.get("ledger_blockchain_height", set())
                    assert any(json.loads(labels).get("channel") == settings.channel for labels in heights), (
                        target,
                        sorted(found)[:40],
                    )
                if job["job_name"] == "fabric-peers":
                    assert "ledger_transaction_count_total" in found or "ledger_transaction_count" in found
                    assert "ledger_block_processing_time_bucket" in found
                if job["job_name"] == "goldticket-signer":  # the write above was signed there
                    assert "goldticket_signer_signatures_total" in found, (target, sorted(found))
                if job["job_name"] == "fabric-orderers":
                    assert "consensus_etcdraft_is_leader" in found
    print(f"\nscraped {len(scraped)} targets: {scraped}")
    assert len(scraped) == 3 + len(jobs["fabric-peers"]["static_configs"]) + len(
        jobs["fabric-orderers"]["static_configs"]
    )
    assert "goldticket_signer_locked_cards" in every and "goldticket_follower_lag_blocks" in every
    # the dashboard's and the alert rules' metrics are the ones these targets expose
    exposed = set(every) | {name.removesuffix("_total") for name in every}
    missing = deploy_metrics.used_metrics() - exposed - LATE - {"up"}
    assert not missing, missing


def test_the_console_sees_every_node_and_the_chain(deployment: dict[str, Any]) -> None:
    portal: Portal = deployment["portal"]
    sources = operations.sources_of(portal, lambda: "")
    history = operations.history_of(portal.settings)
    portal.follower.catch_up()
    first = operations.status(sources, history)
    endpoints = operations.endpoints_of(portal.settings)
    assert {node["name"] for node in first["nodes"]} == {e.name for e in endpoints}
    assert all(node["up"] for node in first["nodes"]), first["nodes"]
    assert [a for a in first["alerts"] if a["code"] != "block_old"] == []
    portal.platform.submit(
        portal.platform.actor("operator"),
        "RegisterMember",
        {"id": "scrape2", "name": "scrape2", "role": "supplier", "msp_id": "OperatorMSP"},
        pin=portal.settings.operator_pin,
    )
    portal.follower.catch_up()
    time.sleep(operations.INTERVAL + 0.2)
    second = operations.status(sources, history)
    height = second["chain"]["height"]
    peers = [node for node in second["nodes"] if node["kind"] == "peer"]
    assert all(node["height"] == height for node in peers), (height, peers)
    assert second["chain"]["transactions"] >= 1 and second["chain"]["commit_seconds"] is not None
    assert second["chain"]["last_block_age"] is not None
    assert sum(1 for node in second["nodes"] if node["leader"]) == 1
    print(
        f"\nconsole on Fabric: height {height}, commit {second['chain']['commit_seconds'] * 1000:.1f} ms a block,"
        f" {len(second['nodes'])} nodes up"
    )
