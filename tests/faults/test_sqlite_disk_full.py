"""The disk under the SQLite store fills up while `verbatim serve` takes corrections: writes answer
UNAVAILABLE, classification goes on, and nothing is half-written (each request's corrections are all
stored or none, every acknowledged one is there, and the database passes its integrity check).

A full disk is simulated with RLIMIT_FSIZE on the server process: a write that would grow a file past
the limit fails (EFBIG; Python ignores SIGXFSZ) as it would with ENOSPC. Unlike a read-only mode or a
small tmpfs, this needs no mount and works as root, who ignores file permissions."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc
from tests.serve_process import free_port, verbatim_command, wait_serving
from tests.service.harness import classify, comment

FILE_LIMIT = 256 << 10  # bytes any one file of the server may reach: the WAL fills it within a few dozen commits
PER_REQUEST = 5


def _full_disk() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


def _request(k: int) -> pb.SubmitCorrectionsRequest:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 3, 4, tzinfo=timezone.utc))
    # Long texts, so the WAL grows quickly towards the limit.
    return pb.SubmitCorrectionsRequest(corrections=[pb.Correction(
        correction_id=f"full-{k}-{i}", comment_id=f"c{k}-{i}", text=f"The export crashes {k} {i} " + "x" * 3000,
        tag="Bug", action=pb.CORRECTION_ACTION_ADD, time=stamp) for i in range(PER_REQUEST)])


def test_a_full_disk_refuses_writes_and_half_writes_nothing(tiny_registry: Registry, tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(tiny_registry.root, registry)
    database = tmp_path / "store.db"
    url = f"sqlite:///{database}"
    Store(url).close()  # created and migrated before the disk is "full"
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_METRICS_PORT": "0", "VERBATIM_REGISTRY": str(registry), "VERBATIM_STORE_URL": url,
                        "VERBATIM_THREADS": "1", "VERBATIM_RELOAD_S": "0", "VERBATIM_INSECURE_NO_AUTH": "true",
                        "VERBATIM_MAX_TEXT_CHARS": "5000",
                        "VERBATIM_BACKEND": "torch"}  # onnx would export its model to a file, over the limit
    log = tmp_path / "serve.log"
    # The log goes through a pipe to `cat`, which writes the file: the limit applies to files, not pipes.
    with open(log, "wb") as out:
        cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=out)
        process = subprocess.Popen([*verbatim_command(), "serve"], env=env, stdout=cat.stdin,
                                   stderr=subprocess.STDOUT, preexec_fn=_full_disk)
    acked: set[str] = set()
    codes: list[grpc.StatusCode] = []
    try:
        wait_serving(process, f"127.0.0.1:{port}", log)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.VerbatimStub(channel)
            for k in range(200):
                try:
                    response = stub.SubmitCorrections(_request(k), timeout=30)
                    acked |= {r.correction_id for r in response.results}
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as exc:
                    codes.append(exc.code())
                    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
                    if codes.count(exc.code()) >= 5:
                        break
            assert grpc.StatusCode.UNAVAILABLE in codes, "the file size limit was never reached"
            assert stub.ClassifyComments(classify(comment("a", "Slack crashes")), timeout=30).comments
            assert process.poll() is None
    finally:
        process.kill()
        process.wait(30)
        assert cat.stdin is not None
        cat.stdin.close()
        cat.wait(30)
    print(f"disk full: {codes.count(grpc.StatusCode.OK)} requests stored, then "
          f"{codes.count(grpc.StatusCode.UNAVAILABLE)} UNAVAILABLE")
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store(url) as store:
        stored = {c.correction_id for c in store.corrections()}
    assert acked <= stored
    for k in range(len(codes)):
        ids = {f"full-{k}-{i}" for i in range(PER_REQUEST)}
        assert ids <= stored or not ids & stored, f"request {k} is half-written"
