"""`make run` installs only what running needs, and the portal's public URL follows where
`goldticket serve` listens (issue #20 point 14).

The runtime set is setup.cfg's install_requires and everything they require; the tests'
packages are the distributions of what tests/ imports that goldticket, web and chaincode do
not. None of those may be in the runtime set, and each must come with the dev extra."""

from __future__ import annotations

import ast
import configparser
import importlib.metadata
import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from goldticket.settings import ConfigError, Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("goldticket", "web", "chaincode")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", Requirement(requirement).name).lower()


def _setup_requirements() -> tuple[set[str], set[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")

    def names(text: str) -> set[str]:
        lines = (line.split("#")[0].strip() for line in text.splitlines())
        return {_name(line) for line in lines if line}

    return names(config["options"]["install_requires"]), names(config["options.extras_require"]["dev"])


def _closure(names: set[str]) -> set[str]:
    """``names`` and every distribution they require (without extras), as installed here."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_name(text))
    return seen


def _imported(paths: list[Path]) -> set[str]:
    modules: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules


def _test_only_distributions() -> set[str]:
    runtime = _imported([p for package in RUNTIME_PACKAGES for p in (ROOT / package).rglob("*.py")])
    tests = _imported(list((ROOT / "tests").rglob("*.py")))
    by_module = importlib.metadata.packages_distributions()
    return {
        re.sub(r"[-_.]+", "-", dist).lower()
        for module in tests - runtime
        for dist in by_module.get(module, [])
        if dist.lower() != "goldticket"
    }


def test_install_requires_has_none_of_the_tests_packages():
    install_requires, _ = _setup_requirements()
    test_only = _test_only_distributions()
    assert {"pytest", "hypothesis", "playwright", "pypdf"} <= test_only  # the scan sees them
    assert not (install_requires & test_only), "a test-only package in install_requires"


def test_the_dev_extra_brings_every_test_package_the_runtime_set_lacks():
    install_requires, dev = _setup_requirements()
    missing = _test_only_distributions() - _closure(install_requires) - _closure(dev)
    assert not missing, f"tests import {sorted(missing)}, which neither install set brings"


def test_the_tests_tools_are_not_in_the_runtime_set():
    """Issue #20's list: none of them comes with `make run`'s install, all with the dev extra."""
    install_requires, dev = _setup_requirements()
    tools = {
        "pytest",
        "hypothesis",
        "pytest-benchmark",
        "ruff",
        "mypy",
        "import-linter",
        "psycopg",
        "playwright",
        "pypdf",
    }
    assert tools <= dev
    pulled = _closure(install_requires) & tools
    assert not pulled, f"the runtime install pulls {sorted(pulled)}"


def test_make_run_installs_the_runtime_set_and_make_test_the_dev_extra():
    rules = {}
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([a-z-]+):(?!=)(.*)$", line)
        if match:
            rules[match.group(1)] = match.group(2).split()
    assert "install-run" in rules["run"] and "install" not in rules["run"]
    assert "install" in rules["test"] and "install" in rules["lint"]
    venv = (ROOT / "tools" / "venv.sh").read_text(encoding="utf-8")
    assert 'run) extras="" ;;' in venv and 'dev) extras="[dev]" ;;' in venv


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"GOLDTICKET_PORT": "8123"}, "http://127.0.0.1:8123"),
        ({"GOLDTICKET_HOST": "10.1.2.3", "GOLDTICKET_PORT": "80"}, "http://10.1.2.3:80"),
        ({"GOLDTICKET_HOST": "::1", "GOLDTICKET_PORT": "9000"}, "http://[::1]:9000"),
        (
            {"GOLDTICKET_PORT": "8123", "GOLDTICKET_PUBLIC_URL": "https://gt.example.cn"},
            "https://gt.example.cn",
        ),
    ],
)
def test_the_public_url_follows_the_host_and_port_unless_set(environ, expected):
    assert Settings.from_env(environ).public_url == expected


def test_listening_on_every_interface_names_this_machine():
    import socket

    assert (
        Settings.from_env({"GOLDTICKET_HOST": "0.0.0.0"}).public_url == f"http://{socket.gethostname()}:8000"
    )


@pytest.mark.parametrize("port", ["0", "65536", "eighty", "-1"])
def test_a_port_that_is_not_one_is_refused(port):
    with pytest.raises(ConfigError, match="GOLDTICKET_PORT"):
        Settings.from_env({"GOLDTICKET_PORT": port})
