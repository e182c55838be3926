"""A real Prometheus server scrapes verbatim's /metrics, and its query API sees the work done.

verbatim runs in-process with the tiny model; Prometheus (Debian's package: `bash
.ci/prometheus.sh`) runs as a child process on a free loopback port, scraping every second.
Under CI (env CI set) a missing binary fails the test; elsewhere it is skipped.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from verbatim.models.predictor import Predictor
from tests.service.harness import Harness, classify, comment, serving
from tests.service.scrape import require_binary
from tests.serve_process import free_port

T = TypeVar("T")
READY_TIMEOUT_S = 60
QUERY_TIMEOUT_S = 60


class PrometheusServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    def get(self, path: str, **params: str) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def query(self, promql: str) -> list[dict[str, Any]]:
        status, body = self.get("/api/v1/query", query=promql)
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", data
        return data["data"]["result"]

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float) -> T:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"prometheus exited:\n{self.log.read_text()[-4000:]}"
            try:
                last = probe()
            except (OSError, ValueError) as exc:  # not listening yet, or a half-started answer
                last = exc
            if last is not None and not isinstance(last, Exception):
                return last
            time.sleep(0.25)
        pytest.fail(f"{what} not reached in {timeout}s (last: {last!r}); prometheus log:\n"
                    f"{self.log.read_text()[-4000:]}")


@pytest.fixture()
def verbatim(tiny_predictor: Predictor) -> Iterator[Harness]:
    with serving(tiny_predictor) as harness:
        yield harness


@pytest.fixture()
def prometheus(verbatim: Harness, tmp_path: Path) -> Iterator[PrometheusServer]:
    binary = require_binary("prometheus")
    config = tmp_path / "prometheus.yml"
    # JSON is YAML; the scrape target is the in-process server's metrics port.
    config.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "verbatim",
                            "static_configs": [{"targets": [f"127.0.0.1:{verbatim.server.metrics_port}"]}]}],
    }))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=out, stderr=subprocess.STDOUT)
    server = PrometheusServer(process, port, log)
    try:
        server.wait_for("prometheus ready", lambda: server.get("/-/ready")[0] == 200 or None, READY_TIMEOUT_S)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _scalar(result: list[dict[str, Any]]) -> float | None:
    return float(result[0]["value"][1]) if len(result) == 1 else None


def test_prometheus_scrapes_comments_classified(verbatim: Harness, prometheus: PrometheusServer) -> None:
    job = '{job="verbatim"}'
    prometheus.wait_for("target up", lambda: _scalar(prometheus.query(f"up{job}")) == 1.0 or None, QUERY_TIMEOUT_S)
    assert _scalar(prometheus.query(f"verbatim_comments_classified_total{job}")) == 0.0  # before any work

    n, m = 10, 3
    for i in range(n):
        response = verbatim.stub.ClassifyComments(
            classify(*(comment(f"{i}-{j}", f"Comment {i}.{j}: the Slack integration keeps crashing")
                       for j in range(m))), timeout=30)
        assert len(response.comments) == m

    expected = float(n * m)
    prometheus.wait_for(  # fails the test with Prometheus's log if the value never arrives
        f"verbatim_comments_classified_total == {expected}",
        lambda: _scalar(prometheus.query(f"verbatim_comments_classified_total{job}")) == expected or None,
        QUERY_TIMEOUT_S)
    result = prometheus.query(f"verbatim_comments_classified_total{job}")
    assert result[0]["metric"]["instance"] == f"127.0.0.1:{verbatim.server.metrics_port}"
    requests = prometheus.query('verbatim_requests_total{job="verbatim",rpc="ClassifyComments",code="OK"}')
    assert _scalar(requests) == n
    info = prometheus.query(f"verbatim_model_info{job}")
    assert info and info[0]["metric"]["backend"] == "torch"
