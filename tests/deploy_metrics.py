"""The metric names deploy/'s Grafana dashboard and Prometheus alert rules use (shared by
tests/functional/test_operations_deploy.py and tests/integration/test_operations_scrape.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PROMQL_WORDS = {"sum", "avg", "max", "by", "rate", "histogram_quantile", "changes", "le"}


def metric_names(expression: str) -> set[str]:
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|by \([^)]*\)", " ", expression)
    return {word for word in re.findall(r"[a-z_][a-z0-9_]*", bare) if word not in PROMQL_WORDS}


def expressions() -> list[str]:
    board = json.loads((DEPLOY / "grafana" / "goldticket.json").read_text())
    rules = yaml.safe_load((DEPLOY / "prometheus" / "goldticket-alerts.yml").read_text())
    found = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
    return found + [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def used_metrics() -> set[str]:
    """Every metric name, ``up`` (Prometheus' own) included."""
    return set().union(*(metric_names(expression) for expression in expressions()))
