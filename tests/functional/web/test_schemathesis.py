"""Schemathesis (a tool nobody here wrote) over the OpenAPI document of a real `goldticket serve`
(gunicorn, its JSON-error worker, the signing gateway), as a user of each role and as nobody:
data the document allows and data it forbids, with a fixed seed. A run fails on any of the
checks of schemathesis.toml: a server error, a status or media type the document does not
name, a body not of its schema, a forbidden request taken, an allowed one refused.

Bounded: GOLDTICKET_ST_EXAMPLES examples per operation and phase (default 10; `make
schemathesis` runs 100), each role's run under SCHEMATHESIS_TIMEOUT seconds."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from liveserver import Server, build_consortium, request_json, server_env
from support import OPERATOR_PASSWORD, OPERATOR_PIN, PIN, TODAY

pytestmark = [pytest.mark.functional, pytest.mark.slow]

HERE = Path(__file__).parent
EXAMPLES = int(os.environ.get("GOLDTICKET_ST_EXAMPLES", "10"))
SEED = int(os.environ.get("GOLDTICKET_ST_SEED", "18"))
TIMEOUT = int(os.environ.get("SCHEMATHESIS_TIMEOUT", str(120 + 12 * EXAMPLES)))
# (label, username): the operator desk, a core enterprise's clerk, a supplier's, a bank's, nobody
ROLES = [
    ("operator", "operator"),
    ("core", "core.clerk"),
    ("supplier", "tier1.clerk"),
    ("bank", "bank.credit"),
    ("anonymous", None),
]
# What schemathesis_hooks.py puts into requests with data the document allows (members of
# liveserver.CONSORTIUM; a maturity date in the term cap; value dates of today)
FIELDS = {
    "pin": PIN,
    "desk_pin": OPERATOR_PIN,
    "payee_org_id": "tier1",
    "to_org_id": "tier2",
    "bank_org_id": "bank",
    "core_org_id": "core",
    "maturity_date": (TODAY + dt.timedelta(days=90)).isoformat(),
    "value_date": TODAY.isoformat(),
}
CHECKS = {
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("schemathesis")
    env = server_env(folder / "var")
    build_consortium(env)
    with Server(env, folder / "serve.log", workers=2, threads=4) as running:
        running.tokens = {}  # type: ignore[attr-defined]
        for _, username in ROLES:
            if username is not None:
                password = OPERATOR_PASSWORD if username == "operator" else None
                running.tokens[username] = _login(running, username, password)  # type: ignore[attr-defined]
        yield running


def _login(server: Server, username: str, password: str | None) -> str:
    if password is None:
        return server.token(username)
    status, body = request_json(
        server.url + "/api/v1/auth/token", "POST", {"username": username, "password": password}
    )
    assert status == 200, body
    return str(body["token"])


def test_the_configuration_enables_exactly_the_checks_of_the_issue() -> None:
    import tomllib

    config = tomllib.loads((HERE / "schemathesis.toml").read_text())
    enabled = {
        name for name, value in config["checks"].items() if isinstance(value, dict) and value["enabled"]
    }
    assert config["checks"]["enabled"] is False and enabled == CHECKS
    # 400 invalid_input is never an answer to data the document allows
    assert "400" not in config["checks"]["positive_data_acceptance"]["expected-statuses"]


@pytest.mark.parametrize(("label", "username"), ROLES, ids=[label for label, _ in ROLES])
def test_schemathesis_finds_nothing(server: Server, tmp_path: Path, label: str, username: str | None) -> None:
    command = [sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file"]
    command += [str(HERE / "schemathesis.toml"), "run", server.url + "/api/v1/openapi.json"]
    command += ["--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1"]
    command += ["--report", "junit", "--report-dir", str(tmp_path)]
    # logging out would end the token the run uses: its own test is in test_api.py
    command += ["--exclude-operation-id", "delete_api_v1_auth_token"]
    if username is not None:
        command += ["--header", f"Authorization: Bearer {server.tokens[username]}"]  # type: ignore[attr-defined]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent.parent)]),
        "GOLDTICKET_ST_FIELDS": json.dumps(FIELDS),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert "Tested: " in output, output[-4000:]
    (tmp_path / "schemathesis.txt").write_text(output)
    failures = output[output.find("= FAILURES =") : output.find("= WARNINGS =")]
    assert done.returncode == 0, failures[:12000] or output[-6000:]
    assert f"Seed: {SEED}" in output
    log = Path(server.log).read_text(errors="replace")
    assert "Traceback" not in log, log[log.index("Traceback") - 2000 :][:6000]
