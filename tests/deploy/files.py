"""The deploy/ files, loaded for the deploy tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "verbatim.json"
KUSTOMIZATION = "kustomization.yaml"

Manifest = dict[str, Any]


def manifest_files() -> list[Path]:
    """Every Kubernetes resource file in deploy/kubernetes/ (the kustomization is not one)."""
    return sorted(p for p in KUBERNETES.glob("*.y*ml") if p.name != KUSTOMIZATION)


def manifests() -> list[Manifest]:
    """Every resource of every manifest file, in file order."""
    resources: list[Manifest] = []
    for path in manifest_files():
        resources.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None)
    return resources


def one(kind: str, name: str | None = None) -> Manifest:
    """The single resource of `kind` (and `name`, when given)."""
    found = [m for m in manifests() if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target, nested rows included."""
    queries: list[tuple[str, str]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                queries.append((panel.get("title", "?"), target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard()["panels"])
    return queries


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml_file(PROMETHEUS / "alerts.yml")["groups"] for rule in group["rules"]]
