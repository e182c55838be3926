"""deploy/kubernetes/examples: the GPU Job and the multi-node torchrun Job.

They stay out of the kustomization (opt-in; they need GPU nodes and a CUDA image). Both are
plain Kubernetes (Job, Service), so the same offline schemas validate them; the rest checks
what ties them to the code and to the main manifests: the commands through the CLI's and
torchrun's own parsers, the rendezvous address against the Service and the Job, the registry
on the servers' claim, and the GPU limits.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from torch.distributed.run import get_args_parser

from tests.deploy.files import KUBERNETES, KUSTOMIZATION, manifests, one, yaml_file
from tests.deploy.test_kubernetes import KUBERNETES_VERSIONS, validate
from verbatim.cli import build_parser
from verbatim.training.__main__ import main as training_main
from verbatim.training.retrain import RETRAIN_TRAINING

EXAMPLES = KUBERNETES / "examples"
GPU_JOB, MULTINODE = EXAMPLES / "retrain-gpu-job.yaml", EXAMPLES / "retrain-multinode.yaml"


def _resources(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _job(path: Path) -> dict[str, Any]:
    [job] = [r for r in _resources(path) if r["kind"] == "Job"]
    return job


def _container(path: Path) -> dict[str, Any]:
    [container] = _job(path)["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS, ids=lambda v: v or "newest")
def test_examples_validate_against_the_kubernetes_schemas(version: str | None) -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert set(files) == {GPU_JOB, MULTINODE}
    result = validate(files, version)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = set(re.findall(r"(\S+) passed for resource (\S+)", result.stdout + result.stderr))
    expected = {(str(p), f"{r['kind'].lower()}/{r['metadata']['name']}") for p in files for r in _resources(p)}
    assert passed == expected, result.stdout + result.stderr


def test_examples_are_opt_in() -> None:
    assert not any("examples" in r for r in yaml_file(KUBERNETES / KUSTOMIZATION)["resources"])


@pytest.mark.parametrize("path", [GPU_JOB, MULTINODE], ids=lambda p: p.name)
def test_each_example_asks_for_one_gpu_per_process_and_trains_on_cuda(path: Path) -> None:
    container = _container(path)
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    command = container["command"]
    assert command[command.index("--device") + 1] == "cuda"  # fails at start-up where no GPU was given
    tolerations = _job(path)["spec"]["template"]["spec"]["tolerations"]
    assert any(t["key"] == "nvidia.com/gpu" for t in tolerations)


@pytest.mark.parametrize("path", [GPU_JOB, MULTINODE], ids=lambda p: p.name)
def test_each_example_shares_the_servers_registry_and_store(path: Path) -> None:
    """The same claim, registry path, store secret and security settings as the nightly CronJob."""
    cron = one("CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    pod = _job(path)["spec"]["template"]["spec"]
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"]
              if "persistentVolumeClaim" in v}
    assert set(claims.values()) == {"verbatim-registry"}
    assert "verbatim-registry" in {m["metadata"]["name"] for m in manifests() if m["kind"] == "PersistentVolumeClaim"}
    env = {e["name"]: e for e in _container(path)["env"]}
    cron_env = {e["name"]: e for e in cron["containers"][0]["env"]}
    assert env["VERBATIM_REGISTRY"] == cron_env["VERBATIM_REGISTRY"]
    assert env["VERBATIM_STORE_URL"] == cron_env["VERBATIM_STORE_URL"]
    mount = next(m for m in _container(path)["volumeMounts"]
                 if env["VERBATIM_REGISTRY"]["value"].startswith(m["mountPath"]))
    assert mount["name"] in claims
    assert pod["securityContext"] == cron["securityContext"]
    assert _container(path)["securityContext"] == cron["containers"][0]["securityContext"]
    assert _container(path)["image"].split(":")[1].startswith(cron["containers"][0]["image"].split(":")[1])


def test_the_gpu_job_runs_verbatim_retrain_as_the_cli_parses_it() -> None:
    command = _container(GPU_JOB)["command"]
    assert command[0] == "verbatim"
    args = build_parser().parse_args(command[1:])
    assert args.command == "retrain" and args.device == "cuda"
    assert _job(GPU_JOB)["spec"]["podFailurePolicy"] == one("CronJob")["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]


def test_the_multinode_job_runs_torchrun_on_the_training_module_with_a_rendezvous_it_can_reach() -> None:
    command = _container(MULTINODE)["command"]
    assert command[0] == "torchrun"
    run = get_args_parser().parse_args(command[1:])  # torchrun's own parser
    assert run.module and run.training_script == "verbatim.training"
    assert run.training_script_args[0] == "retrain"
    # The arguments after the module are ones `python -m verbatim.training` accepts.
    with pytest.raises(SystemExit) as help_exit:
        training_main([*run.training_script_args, "--help"])
    assert help_exit.value.code == 0
    job, [service] = _job(MULTINODE), [r for r in _resources(MULTINODE) if r["kind"] == "Service"]
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert int(run.nnodes) == spec["completions"] == spec["parallelism"]
    assert spec["backoffLimit"] == 0  # one failed pod fails the job; nothing half-trained is retried alone
    assert run.rdzv_backend == "c10d" and run.max_restarts == 0
    # Pod 0 of an Indexed Job is <job>-0, reachable as <job>-0.<subdomain> through a headless Service.
    host, port = run.rdzv_endpoint.rsplit(":", 1)
    pod = spec["template"]
    assert host == f"{job['metadata']['name']}-0.{pod['spec']['subdomain']}"
    assert pod["spec"]["subdomain"] == service["metadata"]["name"] and service["spec"]["clusterIP"] == "None"
    assert all(pod["metadata"]["labels"].get(k) == v for k, v in service["spec"]["selector"].items())
    assert int(port) in {p["port"] for p in service["spec"]["ports"]}
    assert int(port) in {p["containerPort"] for p in _container(MULTINODE)["ports"]}
    # And the server's Service never sends clients to a training pod.
    server_selector = one("Service")["spec"]["selector"]
    assert not all(pod["metadata"]["labels"].get(k) == v for k, v in server_selector.items())
    gpus = _container(MULTINODE)["resources"]["limits"]["nvidia.com/gpu"]
    assert int(run.nproc_per_node) == gpus
    assert RETRAIN_TRAINING.batch_size % (int(run.nnodes) * int(run.nproc_per_node)) == 0  # splits evenly
