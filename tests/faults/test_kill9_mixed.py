"""kill -9 of `verbatim serve` under mixed load: corrections (tests/test_kill9_corrections.py's Load),
ClassifyComments and ListTags at once. Every client sees UNAVAILABLE (or its deadline) and nothing
else, a restarted server serves all three again, and no acknowledged correction is missing."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import grpc

from verbatim.models.registry import Registry
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc
from tests.serve_process import verbatim_serve
from tests.service.harness import classify, comment
from tests.test_kill9_corrections import Load, correction, stored_ids

ACKED_BEFORE_KILL = 100
PER_REQUEST_AGAIN = 20  # acknowledged corrections sent again after the restart
GONE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class Readers:
    """Threads classifying and listing tags until the server goes away; their answers by status code."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.answers: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(rpc,), daemon=True)
                         for rpc in ("ClassifyComments", "ClassifyComments", "ListTags")]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(60)
            assert not thread.is_alive(), "a reader thread is stuck"

    def _run(self, rpc: str) -> None:
        with grpc.insecure_channel(self.target) as channel:
            stub = pb_grpc.VerbatimStub(channel)
            for _ in range(5000):
                try:
                    if rpc == "ListTags":
                        stub.ListTags(pb.ListTagsRequest(), timeout=10)
                    else:
                        stub.ClassifyComments(classify(comment("a", "Slack crashes"), comment("b", "Too pricey")),
                                              timeout=10)
                    code = grpc.StatusCode.OK
                except grpc.RpcError as exc:
                    code = exc.code()
                with self._lock:
                    self.answers[f"{rpc} {code.name}"] += 1
                if code != grpc.StatusCode.OK:
                    return


def test_kill_9_under_mixed_load(tiny_registry: Registry, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(tiny_registry.root, registry)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    log = tmp_path / "serve.log"
    with verbatim_serve(registry, store_url, log) as (process, target):
        load, readers = Load(target), Readers(target)
        load.start()
        readers.start()
        deadline = time.monotonic() + 60
        while len(load.acked) < ACKED_BEFORE_KILL:
            assert time.monotonic() < deadline, f"only {len(load.acked)} acknowledged in 60 s:\n{log.read_text()}"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
        load.join()
        readers.join()
    print(f"kill -9 under mixed load: {dict(readers.answers)}, {len(load.acked)} corrections acknowledged")
    assert not load.unexpected
    failures = {key for key in readers.answers if not key.endswith(" OK")}
    assert failures and all(key.rsplit(" ", 1)[1] in {c.name for c in GONE} for key in failures), readers.answers
    assert readers.answers["ClassifyComments OK"] > 0 and readers.answers["ListTags OK"] > 0
    missing = load.acked - set(stored_ids(store_url))
    assert not missing, f"{len(missing)} acknowledged corrections lost"

    with verbatim_serve(registry, store_url, log) as (_, target), \
            grpc.insecure_channel(target) as channel:
        stub = pb_grpc.VerbatimStub(channel)
        assert stub.ClassifyComments(classify(comment("a", "Slack crashes")), timeout=30).comments
        assert stub.ListTags(pb.ListTagsRequest(), timeout=30).tags
        again = sorted(load.acked)[:PER_REQUEST_AGAIN]
        response = stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[correction(i) for i in again]),
                                          timeout=30)
        assert {r.outcome for r in response.results} == {pb.CorrectionResult.OUTCOME_DUPLICATE}

