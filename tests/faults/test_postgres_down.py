"""PostgreSQL stopped mid-run: SubmitCorrections answers UNAVAILABLE within BOUND_S, ClassifyComments
keeps working on the last known taxonomies, health stays SERVING, and once the database is back
writes succeed again without a restart; every acknowledged correction is in the database."""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2
from sqlalchemy.exc import OperationalError

from verbatim.models.predictor import Predictor
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.faults.pg_cluster import Cluster, require_postgres
from tests.service.harness import classify, comment, health_of, serving

BOUND_S = 5.0  # SubmitCorrections' answer while the database is down
RESUME_S = 30.0  # writes succeed again within this long after the database is back


@pytest.fixture()
def cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: the postgres user cannot enter root's 0700 directories.
    made = Cluster(Path(tempfile.mkdtemp(prefix="verbatim-pg-down-")))
    try:
        made.start()
        yield made
    finally:
        made.remove()


def corrections(prefix: str, count: int = 3) -> pb.SubmitCorrectionsRequest:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 2, 3, tzinfo=timezone.utc))
    return pb.SubmitCorrectionsRequest(corrections=[
        pb.Correction(correction_id=f"{prefix}-{i}", comment_id=f"c{i}", text="The export crashes", tag="Bug",
                      action=pb.CORRECTION_ACTION_ADD, time=stamp) for i in range(count)])


def test_postgres_stopped_mid_run(tiny_predictor: Predictor, cluster: Cluster) -> None:
    acked: set[str] = set()
    with Store(cluster.url) as store, serving(tiny_predictor, {"store": store}, reload_s=0.2) as h:
        for k in range(3):
            response = h.stub.SubmitCorrections(corrections(f"before{k}"), timeout=10)
            acked |= {r.correction_id for r in response.results}
        cluster.stop()

        waits = []
        for k in range(5):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as info:
                h.stub.SubmitCorrections(corrections(f"down{k}"), timeout=30)
            waits.append(time.monotonic() - started)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
            assert h.stub.ClassifyComments(classify(comment("a", "Slack keeps crashing")), timeout=10).comments
            assert health_of(h) == health_pb2.HealthCheckResponse.SERVING
            time.sleep(0.3)  # let the reload poll meet the outage too
        print(f"postgres down: SubmitCorrections UNAVAILABLE in at most {max(waits):.3f} s")
        assert max(waits) <= BOUND_S, waits

        cluster.start()
        deadline = time.monotonic() + RESUME_S
        while True:
            try:
                response = h.stub.SubmitCorrections(corrections("after"), timeout=10)
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
                assert time.monotonic() < deadline, "writes did not resume"
                time.sleep(0.2)
        acked |= {r.correction_id for r in response.results}
        assert h.stub.ClassifyComments(classify(comment("a", "Slack keeps crashing")), timeout=10).comments
    with Store(cluster.url) as reopened:
        stored = {c.correction_id for c in reopened.corrections()}
    assert acked <= stored, acked - stored
    assert not {i for i in stored if i.startswith("down")}  # refused ones were not half-written


def test_a_database_that_never_answers_fails_within_the_bound() -> None:
    """A port that accepts connections but never speaks (a hung or blackholed server): the connect
    timeout of store/engine.py fails the call within BOUND_S instead of hanging it."""
    require_postgres()  # psycopg is what times out; its server binaries are not needed, but CI has them
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever answers
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.getsockname()[1]}/postgres"
        started = time.monotonic()
        with pytest.raises(OperationalError):
            Store(url)
        elapsed = time.monotonic() - started
    print(f"silent database: the store gave up after {elapsed:.2f} s")
    assert elapsed <= BOUND_S
