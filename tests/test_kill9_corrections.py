"""kill -9 of `verbatim serve` while clients submit corrections: every acknowledged correction
is in the store afterwards, the store is intact, and a restarted server takes the retries
of everything that was sent as duplicates or new, never twice.

The server is a real process on a real socket, serving the tiny random-weight model from a
copy of the test registry, with a temporary SQLite store.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

from tests.serve_process import verbatim_serve

CLIENTS = 6
PER_REQUEST = 5
ACKED_BEFORE_KILL = 150  # corrections acknowledged before the kill, so it lands mid-load
MAX_ROUNDS = 2000  # per client: a bound on the load loop whatever happens


def correction(cid: str) -> pb.Correction:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    return pb.Correction(correction_id=cid, comment_id=f"comment-{cid}", text=f"The export crashes ({cid})",
                         tag="Bug", action=pb.CORRECTION_ACTION_ADD, actor="load-test", time=stamp)


class Load:
    """Client threads submitting corrections with unique ids until the server goes away."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.sent: set[str] = set()
        self.acked: set[str] = set()
        self.unanswered = 0  # requests that got no answer: the server died under them
        self.unexpected: list[str] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, args=(k,), daemon=True) for k in range(CLIENTS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(60)
            assert not thread.is_alive(), "a client thread is stuck"

    def _client(self, k: int) -> None:
        with grpc.insecure_channel(self.target) as channel:
            stub = pb_grpc.VerbatimStub(channel)
            for round_ in range(MAX_ROUNDS):
                ids = [f"kill9-{k}-{round_}-{i}" for i in range(PER_REQUEST)]
                with self._lock:
                    self.sent.update(ids)
                try:
                    response = stub.SubmitCorrections(
                        pb.SubmitCorrectionsRequest(corrections=[correction(i) for i in ids]), timeout=10)
                except grpc.RpcError as exc:
                    with self._lock:
                        if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                            self.unanswered += 1
                        else:
                            self.unexpected.append(f"{exc.code().name}: {exc.details()}")
                    return
                with self._lock:
                    self.acked.update(r.correction_id for r in response.results
                                      if r.outcome == pb.CorrectionResult.OUTCOME_STORED)


def stored_ids(store_url: str) -> list[str]:
    with Store(store_url) as store:
        return [c.correction_id for c in store.corrections()]


def test_every_acknowledged_correction_survives_kill_9(tiny_registry: Registry, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(tiny_registry.root, registry)
    database = tmp_path / "store.db"
    store_url = f"sqlite:///{database}"
    log = tmp_path / "serve.log"

    with verbatim_serve(registry, store_url, log) as (process, target):
        load = Load(target)
        load.start()
        deadline = time.monotonic() + 60
        while len(load.acked) < ACKED_BEFORE_KILL:
            assert time.monotonic() < deadline, f"only {len(load.acked)} acknowledged in 60 s:\n{log.read_text()}"
            assert process.poll() is None, log.read_text()
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
        load.join()

    assert not load.unexpected
    assert load.unanswered >= 1, "the kill should land while requests are in flight"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = stored_ids(store_url)
    assert len(stored) == len(set(stored))
    missing = load.acked - set(stored)
    assert not missing, f"{len(missing)} acknowledged corrections were lost, e.g. {sorted(missing)[:5]}"
    assert set(stored) <= load.sent

    # Clients retry everything they sent after a restart: acknowledged ones are duplicates,
    # the ones in flight at the kill are stored now or were already, and nothing is stored twice.
    with verbatim_serve(registry, store_url, log) as (_, target), grpc.insecure_channel(target) as channel:
        stub = pb_grpc.VerbatimStub(channel)
        pending = sorted(load.sent)
        outcomes: dict[str, int] = {}
        for start in range(0, len(pending), PER_REQUEST * 10):
            chunk = pending[start:start + PER_REQUEST * 10]
            response = stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[correction(i) for i in chunk]),
                                              timeout=30)
            outcomes.update((r.correction_id, r.outcome) for r in response.results)
    assert all(outcomes[i] == pb.CorrectionResult.OUTCOME_DUPLICATE for i in load.acked)
    assert sorted(stored_ids(store_url)) == pending
