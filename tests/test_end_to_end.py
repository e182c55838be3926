"""`verbatim serve` as a real process, with the real trained model, over a real socket.

The registry comes from VERBATIM_E2E_REGISTRY, else var/registry if it has a champion,
else a default model is trained into a temporary registry first: `verbatim train` on the real
encoder and the real corpora, with 3 epochs instead of the default 8 to keep CI under 30 minutes
(4.5 minutes instead of 13 on 2 idle cores; seed test theme micro-F1 0.729 instead of 0.813).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from verbatim.models.registry import Registry
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc
from tests.serve_process import free_port, verbatim_command

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
GRACE_S = 20
PER_REQUEST = 64  # comments in each of the drain test's twenty requests
COMPLAINT = "The Slack integration keeps crashing and support never answers"


@pytest.fixture(scope="module")
def real_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("VERBATIM_E2E_REGISTRY"):
        path = Path(os.environ["VERBATIM_E2E_REGISTRY"])
        assert Registry(path).champion(), f"VERBATIM_E2E_REGISTRY={path} has no champion"
        return path
    if Registry(REPO / "var" / "registry").champion():
        return REPO / "var" / "registry"
    path = tmp_path_factory.mktemp("e2e-registry")
    subprocess.run([*verbatim_command(), "train", "--epochs", "3", "--registry", str(path)], check=True, timeout=3600,
                   env=os.environ | {"HF_HUB_OFFLINE": "1"})
    return path


@pytest.fixture()
def server(real_registry: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_REGISTRY": str(real_registry), "VERBATIM_GRACE_S": str(GRACE_S),
                        "VERBATIM_METRICS_PORT": "0",  # the default port may be taken (another server)
                        # The store is the source of the served taxonomies: a fresh one, not var/verbatim.db.
                        "VERBATIM_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
                        "VERBATIM_INSECURE_NO_AUTH": "1"}  # keys are tested in tests/test_tls_e2e.py
    with open(log, "wb") as out:
        process = subprocess.Popen([*verbatim_command(), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_serving(process: subprocess.Popen[bytes], channel: grpc.Channel, log: Path, timeout: float = 180) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"verbatim serve exited early:\n{log.read_text()}"
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service="verbatim.v1.Verbatim"), timeout=1).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass  # not listening yet
        time.sleep(0.2)
    pytest.fail(f"not SERVING after {timeout}s:\n{log.read_text()}")


def test_serve_classifies_and_drains_on_sigterm(server: tuple[subprocess.Popen[bytes], int, Path],
                                                real_registry: Path) -> None:
    process, port, log = server
    trained_here = not os.environ.get("VERBATIM_E2E_REGISTRY") and real_registry != REPO / "var" / "registry"
    target = f"127.0.0.1:{port}"
    with grpc.insecure_channel(target) as channel:
        wait_serving(process, channel, log)
        stub = pb_grpc.VerbatimStub(channel)

        request = pb.ClassifyCommentsRequest(comments=[pb.Comment(id="c1", text=COMPLAINT)])
        response = stub.ClassifyComments(request, timeout=30)
        [result] = response.comments
        tags = {t.name: t for t in result.tags}
        # Support is mentioned too, but the three-industry model scores it under its threshold here
        # ("Support never answers" alone: 0.99); issue 14's note has the figures. Bug ("keeps
        # crashing") sits at its threshold: 0.34 against 0.28 on the 6-epoch default model, 0.26
        # against 0.30 on the 8-epoch one (seed 13), so only the 3-epoch model trained here pins it.
        assert {"Slack", "Integrations"} <= set(tags), f"tags: {sorted(tags)}"
        assert "Bug" in tags or not trained_here, f"tags: {sorted(tags)}"
        assert tags["Slack"].parent == "Integrations"
        assert result.sentiment.label == pb.SENTIMENT_LABEL_NEGATIVE
        assert all(t.sentiment.label == pb.SENTIMENT_LABEL_NEGATIVE for t in tags.values())  # each tag's own
        assert f"verbatim serving on {target} with model {response.model_version}" in log.read_text()

        cli = subprocess.run([*verbatim_command(), "classify", COMPLAINT, "--target", target],
                             capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        assert "Integrations \u203a Slack" in cli.stdout and "sentiment: NEGATIVE" in cli.stdout
        as_json = subprocess.run([*verbatim_command(), "classify", COMPLAINT, "--target", target, "--json"],
                                 capture_output=True, text=True, timeout=60)
        assert json.loads(as_json.stdout)["model_version"] == response.model_version

        # The Tags tab through the real model: `verbatim report --target` streams a file to this server.
        data = log.parent / "responses.csv"
        data.write_text("time,score,survey_type,text,plan\n"
                        f"2026-07-02T10:00:00Z,2,nps,{COMPLAINT},team\n"
                        "2026-07-03T10:00:00Z,10,nps,Lovely product and the price is fair,enterprise\n"
                        "2026-07-04T10:00:00Z,8,nps,,team\n")
        out = log.parent / "report"
        report = subprocess.run([*verbatim_command(), "report", "--data", str(data), "--target", target, "--out",
                                 str(out), "--no-progress"], capture_output=True, text=True, timeout=120)
        assert report.returncode == 0, report.stderr
        summary = json.loads((out / "summary.json").read_text())["summary"]
        assert summary["current"]["figures"]["score"]["value"] == 0  # one promoter, one passive, one detractor
        detractor_tags = {t["name"] for t in summary["top_detractor_tags"]}
        assert {"Slack", "Integrations"} <= detractor_tags, detractor_tags
        assert "2 classified by " + response.model_version in report.stdout

        # Twenty concurrent requests, then SIGTERM while they are still being computed: 1,280 distinct
        # comments, seconds of work even on a fast CPU (160 short ones once all finished within 0.3 s).
        def request(r: int) -> pb.ClassifyCommentsRequest:
            texts = [f"{COMPLAINT}. Ticket {r}-{i}: exports to CSV fail, the dashboard is slow on Mondays and "
                     f"the invoice for seat {i} of team {r} was charged twice." for i in range(PER_REQUEST)]
            return pb.ClassifyCommentsRequest(comments=[pb.Comment(id=str(i), text=t) for i, t in enumerate(texts)])
        futures = [stub.ClassifyComments.future(request(r), timeout=60) for r in range(20)]
        time.sleep(0.3)  # let the server accept all of them
        pending = sum(not f.done() for f in futures)
        sent_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        codes = [f.code() for f in futures]
        assert pending > 0, "every request finished before SIGTERM; nothing was in flight"
        assert codes == [grpc.StatusCode.OK] * 20
        assert all(len(f.result().comments) == PER_REQUEST for f in futures)
        assert process.wait(timeout=GRACE_S + 10) == 0, log.read_text()
        assert time.monotonic() - sent_at < GRACE_S + 5
    assert "shutting down" in log.read_text()
