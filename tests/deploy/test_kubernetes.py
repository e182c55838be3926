"""deploy/kubernetes: schema validation and the cross-references a schema cannot see.

The schemas: `kubernetes-validate` (PyPI), which ships the Kubernetes OpenAPI schemas of each
release inside the package and so works offline (the `dev` extra installs it).
Under CI (env CI set) a missing validator fails the tests that need it; elsewhere they skip.

The rest checks what ties the files to each other and to the code: selectors and labels,
ports and probes against what the server registers, the settings through ServiceConfig itself,
the retrain command through the CLI's own parser, volumes, the secret, and the kustomization.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from verbatim.cli import build_parser
from verbatim.service.auth import load_keyring
from verbatim.service.config import ENV_PREFIX, ServiceConfig
from verbatim.service.server import HEALTH_SERVICES
from verbatim.service.servicer import SERVICE_NAME
from tests.deploy.files import KUBERNETES, KUSTOMIZATION, Manifest, manifest_files, manifests, one, yaml_file

# Versions to validate against: the oldest where everything used here is GA (gRPC probes and
# CronJob time zones: 1.27; a Job's podFailurePolicy: 1.31), and the validator's newest.
KUBERNETES_VERSIONS = ("1.31.0", None)
# Where the image (Dockerfile) keeps the registry and the SQLite store.
DATA_DIR = PurePosixPath("/var/lib/verbatim")


def validator() -> str:
    """The validator's path. Missing: a failure under CI (env CI set), else a skip with the fix
    (the convention of tests/service/scrape.py's require_binary)."""
    path = (shutil.which("kubernetes-validate")
            or shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent)))
    if path is None:
        message = "`kubernetes-validate` is not installed; pip install -e '.[dev]' installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def validate(paths: list[Path], version: str | None) -> subprocess.CompletedProcess[str]:
    args = [validator(), "--strict", *(["--kubernetes-version", version] if version else []), *map(str, paths)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS, ids=lambda v: v or "newest")
def test_manifests_validate_against_the_kubernetes_schemas(version: str | None) -> None:
    files = manifest_files()
    result = validate(files, version)
    assert result.returncode == 0, result.stdout + result.stderr
    # A kind or apiVersion without a schema is only a warning: require a pass for every resource.
    passed = re.findall(r"(\S+) passed for resource (\S+)", result.stdout + result.stderr)
    expected = {(str(path), f"{m['kind'].lower()}/{m['metadata']['name']}") for path in files
                for m in yaml.safe_load_all(path.read_text()) if m}
    assert set(passed) == expected, result.stdout + result.stderr


def test_the_validator_rejects_broken_manifests(tmp_path: Path) -> None:
    deployment = (KUBERNETES / "deployment.yaml").read_text()
    broken = {
        "type.yaml": deployment.replace("replicas: 2", 'replicas: "two"'),
        "field.yaml": deployment.replace("readinessProbe:", "readynessProbe:"),
        "kind.yaml": deployment.replace("apiVersion: apps/v1", "apiVersion: extensions/v1beta1"),
    }
    for name, text in broken.items():
        assert text != deployment
        (tmp_path / name).write_text(text)
        result = validate([tmp_path / name], None)
        assert result.returncode != 0 or "passed" not in result.stdout, f"{name}: {result.stdout}{result.stderr}"


def test_kustomization_lists_every_manifest_and_nothing_else() -> None:
    kustomization = yaml_file(KUBERNETES / KUSTOMIZATION)
    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(p.name for p in manifest_files())
    images = {image["name"] for image in kustomization.get("images", [])}
    assert images <= {c["image"].split(":")[0] for c in _containers()}


def test_kubectl_kustomize_builds_every_resource() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the kustomization is checked by the test above")
    result = subprocess.run([kubectl, "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    built = {(m["kind"], m["metadata"]["name"]) for m in yaml.safe_load_all(result.stdout) if m}
    assert built == {(m["kind"], m["metadata"]["name"]) for m in manifests()}


# --- helpers over the resources ------------------------------------------------------------------

def _pod_templates() -> list[tuple[str, dict[str, Any]]]:
    templates = []
    for m in manifests():
        if m["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            templates.append((m["metadata"]["name"], m["spec"]["template"]))
        elif m["kind"] == "CronJob":
            templates.append((m["metadata"]["name"], m["spec"]["jobTemplate"]["spec"]["template"]))
    return templates


def _containers() -> list[dict[str, Any]]:
    return [c for _, t in _pod_templates() for c in t["spec"].get("initContainers", []) + t["spec"]["containers"]]


def _server() -> tuple[Manifest, dict[str, Any], dict[str, Any]]:
    deployment = one("Deployment")
    pod = deployment["spec"]["template"]
    return deployment, pod, pod["spec"]["containers"][0]


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _port(container: dict[str, Any], name: str) -> int:
    return next(p["containerPort"] for p in container["ports"] if p["name"] == name)


def _secret_value(name: str, key: str) -> str:
    secret = one("Secret", name)
    assert key in secret.get("stringData", {}), f"secret {name} has no key {key}"
    return secret["stringData"][key]


def _env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment, secrets resolved from the Secret manifests."""
    env: dict[str, str] = {}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = _secret_value(ref["name"], ref["key"])
    return env


def _config() -> ServiceConfig:
    """The server's settings exactly as the Deployment sets them, read by ServiceConfig itself."""
    _, _, container = _server()
    return ServiceConfig.from_sources({}, _env(container))


def _quantity(value: str | int) -> float:
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    number, unit = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(value)).groups()  # type: ignore[union-attr]
    return float(number) * (units[unit] if unit else 1)


# --- the server ------------------------------------------------------------------------------------

def test_deployment_selector_matches_its_pods() -> None:
    deployment, pod, _ = _server()
    assert _matches(deployment["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])


def test_deployment_env_names_are_settings_the_server_reads() -> None:
    settings = {ENV_PREFIX + f.name.upper() for f in fields(ServiceConfig)}
    _, _, container = _server()
    names = [var["name"] for var in container["env"]]
    assert len(names) == len(set(names))
    unknown = {name for name in names if name.startswith(ENV_PREFIX)} - settings
    assert not unknown, f"not read by service/config.py: {unknown}"


def test_deployment_settings_are_valid_and_consistent() -> None:
    config = _config()  # raises ConfigError, naming the key, on a bad value
    _, pod, container = _server()
    assert config.port == _port(container, "grpc")
    assert config.metrics_port == _port(container, "metrics")
    # Listening on loopback would make the pod unreachable, probes included.
    assert ipaddress.ip_address(config.host).is_unspecified
    # The kubelet must not SIGKILL the server while it drains.
    assert pod["spec"]["terminationGracePeriodSeconds"] > config.grace_s
    # One inference thread per CPU of the limit, not per core of the node.
    assert config.threads == _quantity(container["resources"]["limits"]["cpu"])


def test_api_keys_come_from_a_secret_and_parse() -> None:
    _, _, container = _server()
    keys = next(var for var in container["env"] if var["name"] == ENV_PREFIX + "API_KEYS")
    assert "secretKeyRef" in keys["valueFrom"]
    config = _config()
    assert not config.insecure_no_auth
    ring = load_keyring(config)  # ConfigError, naming the line, for a malformed one
    assert ring is not None and ring.keys


def test_store_is_the_shared_postgresql_from_the_secret() -> None:
    deployment, _, container = _server()
    store = next(var for var in container["env"] if var["name"] == ENV_PREFIX + "STORE_URL")
    assert "secretKeyRef" in store["valueFrom"]
    # Replicas cannot share an SQLite file: more than one needs PostgreSQL.
    assert deployment["spec"]["replicas"] > 1
    url = make_url(_config().store_url)
    assert url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"


def test_probes_use_grpc_health_on_the_grpc_port() -> None:
    _, _, container = _server()
    grpc_port = _port(container, "grpc")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        action = container[probe]["grpc"]
        assert action["port"] == grpc_port, probe
        assert action.get("service", "") in HEALTH_SERVICES, probe
    assert container["readinessProbe"]["grpc"]["service"] == SERVICE_NAME


def test_service_is_headless_and_targets_the_server_ports() -> None:
    service = one("Service")
    deployment, pod, container = _server()
    assert service["spec"]["clusterIP"] == "None"
    assert _matches(service["spec"]["selector"], pod["metadata"]["labels"])
    for name, template in _pod_templates():  # the retrain job's pods serve nothing
        if name != deployment["metadata"]["name"]:
            assert not _matches(service["spec"]["selector"], template["metadata"]["labels"]), name
    ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert ports["grpc"]["port"] == _port(container, "grpc")
    for port in ports.values():
        target = port.get("targetPort", port["port"])
        names = {p["name"] for p in container["ports"]}
        assert target in names or target in {p["containerPort"] for p in container["ports"]}, port


def test_disruption_budget_covers_the_server_pods() -> None:
    budget = one("PodDisruptionBudget")
    deployment, pod, _ = _server()
    assert _matches(budget["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]  # else no node could drain


# --- every pod ---------------------------------------------------------------------------------

def test_every_container_has_requests_and_limits() -> None:
    for container in _containers():
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request, limit = resources["requests"][resource], resources["limits"][resource]
            assert 0 < _quantity(request) <= _quantity(limit), (container["name"], resource)


def test_every_pod_runs_as_non_root() -> None:
    for name, template in _pod_templates():
        security = template["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True, name
        assert security.get("runAsUser", 1) != 0, name
        for container in template["spec"]["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, container["name"]
            assert "ALL" in context["capabilities"]["drop"], container["name"]
            assert context.get("runAsUser", 1) != 0, container["name"]


def test_volumes_claims_exist_and_hold_the_registry() -> None:
    claims = {m["metadata"]["name"]: m for m in manifests() if m["kind"] == "PersistentVolumeClaim"}
    registries: set[str] = set()
    for name, template in _pod_templates():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        for volume in volumes.values():
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert claim in claims, f"{name} mounts missing claim {claim}"
                # Several pods on several nodes mount it at once.
                assert "ReadWriteMany" in claims[claim]["spec"]["accessModes"]
        for container in template["spec"]["containers"]:
            registry = _env(container).get(ENV_PREFIX + "REGISTRY")
            assert registry, f"{name}: no {ENV_PREFIX}REGISTRY"
            mount = next(m for m in container["volumeMounts"]
                         if PurePosixPath(registry).is_relative_to(m["mountPath"]))
            assert "persistentVolumeClaim" in volumes[mount["name"]], f"{name}: the registry is not on a claim"
            assert PurePosixPath(mount["mountPath"]) == DATA_DIR
            registries.add(registry)
    assert len(registries) == 1, f"the server and the retrain job must share one registry: {registries}"


def test_every_secret_reference_exists() -> None:
    references = [var["valueFrom"]["secretKeyRef"] for c in _containers() for var in c.get("env", [])
                  if "secretKeyRef" in var.get("valueFrom", {})]
    assert references
    for ref in references:
        assert _secret_value(ref["name"], ref["key"])


def test_every_image_is_the_same_release() -> None:
    images = {c["image"] for c in _containers()}
    assert len(images) == 1
    assert re.fullmatch(r"verbatim:\d+\.\d+\.\d+", images.pop())


# --- the retrain job ---------------------------------------------------------------------------

def _retrain() -> tuple[Manifest, dict[str, Any]]:
    cronjob = one("CronJob")
    return cronjob, cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]


def test_cronjob_runs_verbatim_retrain_with_arguments_the_cli_accepts() -> None:
    cronjob, container = _retrain()
    command = container.get("command", []) + container.get("args", [])
    assert command[0] == "verbatim"
    args = build_parser().parse_args(command[1:])  # SystemExit(2) on an argument it does not know
    assert args.command == "retrain"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"  # two runs would race to promote
    _, _, server = _server()
    server_command = server.get("command", []) + server.get("args", [])
    assert server_command[:1] == ["verbatim"] and build_parser().parse_args(server_command[1:]).command == "serve"


def test_cronjob_env_names_are_ones_retrain_reads() -> None:
    """`verbatim retrain --help` names the environment variable behind each of its options."""
    help_text = subprocess.run([sys.executable, "-m", "verbatim.cli", "retrain", "--help"], capture_output=True,
                               text=True, timeout=120, check=True).stdout
    read = set(re.findall(r"env\s+(VERBATIM_[A-Z_]+)", help_text))
    assert ENV_PREFIX + "REGISTRY" in read  # the help still names its variables
    _, container = _retrain()
    names = {var["name"] for var in container["env"] if var["name"].startswith(ENV_PREFIX)}
    assert names <= read, f"not read by verbatim retrain: {names - read}"
    assert ENV_PREFIX + "STORE_URL" in names  # it learns from the shared store, not an empty SQLite
