"""`pip install ./clients/python` into an empty virtualenv: no torch, only `verbatim_client`, and the
README example classifies through a `verbatim serve` process started from this checkout's venv."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.clients.test_readme import check_example_output, readme_example
from verbatim.models.registry import Registry
from tests.serve_process import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("client-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "-q", str(REPO / "clients" / "python")],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path_factory.mktemp("cwd"))
    assert done.returncode == 0, done.stderr
    return python


@pytest.fixture(scope="module")
def served(tiny_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`verbatim serve` (this checkout's venv) with the tiny model; yields its target."""
    port, tmp = free_port(), tmp_path_factory.mktemp("serve")
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_REGISTRY": str(tiny_registry.root), "VERBATIM_BACKEND": "torch",
                        "VERBATIM_METRICS_PORT": "0", "VERBATIM_STORE_URL": f"sqlite:///{tmp / 'store.db'}",
                        "VERBATIM_INSECURE_NO_AUTH": "1"}
    log = tmp / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "verbatim.cli", "serve"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    target = f"127.0.0.1:{port}"
    try:
        with grpc.insecure_channel(target) as channel:
            health, deadline = health_pb2_grpc.HealthStub(channel), time.monotonic() + 120
            while True:
                assert process.poll() is None, log.read_text()
                try:
                    if health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == \
                            health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield target
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_client_installs_without_torch_and_only_as_verbatim_client(client_venv: Path) -> None:
    probe = ("import importlib.util, importlib.metadata as m\n"
             "print(importlib.util.find_spec('torch'), importlib.util.find_spec('numpy'))\n"
             "files = m.distribution('verbatim-client').files\n"
             "print(sorted({f.parts[0] for f in files if not f.parts[0].endswith('.dist-info')}))\n"
             "print(sorted(str(f) for f in files if f.name.endswith(('_pb2.py', '_pb2_grpc.py', '_pb2.pyi'))))\n"
             "print(sorted(d.metadata['Name'] for d in m.distributions()))")
    done = subprocess.run([str(client_venv), "-c", probe], capture_output=True, text=True, timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    specs, top_level, stubs, distributions = done.stdout.splitlines()
    assert specs == "None None"  # neither torch nor numpy is installed
    assert top_level in ("['verbatim_client']", "['__pycache__', 'verbatim_client']")
    assert stubs == str(sorted(f"verbatim_client/_stubs/verbatim{s}" for s in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")))
    assert "verbatim" not in eval(distributions)  # noqa: S307 - our own repr of a list of names


def test_the_readme_example_runs_from_the_fresh_venv(client_venv: Path, served: str,
                                                     tiny_registry: Registry) -> None:
    result = subprocess.run([str(client_venv), "-c", readme_example()], capture_output=True, text=True, timeout=60,
                            cwd="/", env={"PATH": os.environ.get("PATH", ""), "VERBATIM_TARGET": served})
    assert result.returncode == 0, result.stderr
    check_example_output(result.stdout, str(tiny_registry.champion()))
