"""`verbatim serve` as a real process on a free loopback port, for the tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc


def verbatim_command() -> list[str]:
    script = Path(sys.executable).with_name("verbatim")
    return [str(script)] if script.exists() else [sys.executable, "-m", "verbatim.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def verbatim_serve(registry: Path, store_url: str, log: Path, *, wrap: Sequence[str] = (),
                   **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`verbatim serve` on a free loopback port, SERVING; `settings` add VERBATIM_* variables.
    Without api_keys or api_keys_file among them, the server runs without authentication.
    `wrap` is a command that runs the server (its arguments follow), such as a namespace set-up."""
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_METRICS_PORT": "0", "VERBATIM_REGISTRY": str(registry),
                        "VERBATIM_STORE_URL": store_url, "VERBATIM_THREADS": "1", "VERBATIM_RELOAD_S": "1"}
    if not {"api_keys", "api_keys_file"} & set(settings):
        env["VERBATIM_INSECURE_NO_AUTH"] = "1"
    env |= {f"VERBATIM_{name.upper()}": value for name, value in settings.items()}
    with open(log, "ab") as out:
        process = subprocess.Popen([*wrap, *verbatim_command(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_serving(process, f"127.0.0.1:{port}", log)
        yield process, f"127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def wait_serving(process: subprocess.Popen[bytes], target: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert process.poll() is None, f"verbatim serve exited early:\n{log.read_text()}"
            try:
                if health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass  # not listening yet
            time.sleep(0.2)
    pytest.fail(f"not SERVING after {timeout}s:\n{log.read_text()}")
