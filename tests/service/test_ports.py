"""The default metrics port: clear of the exporters' range, and the one every manifest uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from verbatim.service.config import ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
# Prometheus' default-port list gives 9100-9999 to exporters (9100 node_exporter); 9464 is
# OpenTelemetry's Prometheus exporter.
EXPORTER_PORTS = range(9100, 10000)


def test_the_default_metrics_port_is_no_exporters_and_not_the_grpc_port() -> None:
    port = ServiceConfig().metrics_port
    assert port not in EXPORTER_PORTS and port != 9464
    assert port != ServiceConfig().port
    assert 1024 < port < 65536  # no root needed


def test_the_manifests_use_the_default_metrics_port() -> None:
    port = ServiceConfig().metrics_port
    documents = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/deployment.yaml").read_text()))
    container = next(d for d in documents if d and d.get("kind") == "Deployment")["spec"]["template"]["spec"][
        "containers"][0]
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"] == port
    assert {e["name"]: e.get("value") for e in container["env"]}["VERBATIM_METRICS_PORT"] == str(port)
    service = next(d for d in yaml.safe_load_all((ROOT / "deploy/kubernetes/service.yaml").read_text())
                   if d and d.get("kind") == "Service")
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]}["metrics"] == port
