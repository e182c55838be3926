"""The file system under the SQLite store is read-only: `verbatim serve` keeps classifying and
reading, every write answers UNAVAILABLE, and nothing is written, half or whole.

The read-only file system is a bind mount remounted read-only in a user and mount namespace of the
server's own (`unshare`), so the test needs no privileges and root's permission override does not
apply. A bind mount only refuses files opened after it, which is why the server starts on it rather
than seeing it change mid-run: a disk remounted read-only under a running server (errors=remount-ro)
fails the writes of the files it already holds the same way, as SQLite's "attempt to write a
readonly database". SQLite can only read a WAL database on read-only media while its -wal and -shm
files exist, that is while another connection holds it open (here, the test's own, as a replica or
the server itself would); without them it cannot be opened at all, and the server refuses to start,
saying which store and why.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.store import Action, Correction, Store
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc
from tests.serve_process import verbatim_command, verbatim_serve
from tests.service.harness import classify, comment

# Runs "$@" with the directory "$0" read-only, in new user and mount namespaces.
READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'


def _read_only(directory: Path) -> list[str]:
    return ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", READ_ONLY, str(directory)]


def _store_before(url: str) -> None:
    stamp = datetime(2026, 3, 4, tzinfo=timezone.utc)
    before = [Correction(correction_id=f"before-{i}", account_id=DEFAULT_ACCOUNT, comment_id=f"c{i}",
                         text=f"The export crashes {i}", tag="Bug", action=Action.ADD, predicted_by_model=False,
                         sentiment=None, actor="analyst", time=stamp) for i in range(3)]
    with Store(url) as store:
        store.submit_corrections(before)


@pytest.fixture()
def store_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "store"
    directory.mkdir()
    probe = subprocess.run([*_read_only(directory), "touch", str(directory / "probe")], capture_output=True, text=True)
    if "Read-only file system" not in probe.stderr:
        pytest.skip(f"cannot make a read-only bind mount here (unshare; rc {probe.returncode}): {probe.stderr.strip()}")
    return directory


@pytest.fixture()
def holder(store_dir: Path) -> Iterator[sqlite3.Connection]:
    """Another connection to the store, open throughout, as a replica's would be."""
    database = store_dir / "store.db"
    _store_before(f"sqlite:///{database}")
    connection = sqlite3.connect(database)
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()  # creates the -wal and -shm files
    yield connection
    connection.close()


def _submit(k: int) -> pb.SubmitCorrectionsRequest:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 3, 5, tzinfo=timezone.utc))
    return pb.SubmitCorrectionsRequest(corrections=[pb.Correction(
        correction_id=f"refused-{k}-{i}", comment_id=f"r{k}-{i}", text="Slack keeps crashing", tag="Bug",
        action=pb.CORRECTION_ACTION_ADD, time=stamp) for i in range(3)])


def test_a_read_only_store_refuses_writes_and_keeps_serving(tiny_registry: Registry, tmp_path: Path,
                                                            store_dir: Path, holder: sqlite3.Connection) -> None:
    registry = tmp_path / "registry"
    shutil.copytree(tiny_registry.root, registry)
    database = store_dir / "store.db"
    url = f"sqlite:///{database}"
    log = tmp_path / "serve.log"
    with verbatim_serve(registry, url, log, wrap=_read_only(store_dir), backend="torch") as (process, target), \
            grpc.insecure_channel(target) as channel:
        stub = pb_grpc.VerbatimStub(channel)
        for k in range(3):
            with pytest.raises(grpc.RpcError) as refused:
                stub.SubmitCorrections(_submit(k), timeout=30)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
            assert "store is unavailable" in refused.value.details()
        with pytest.raises(grpc.RpcError) as refused:  # a taxonomy write too
            stub.PutTags(pb.PutTagsRequest(tags=[pb.Tag(name="Onboarding", keywords=["onboarding"])]), timeout=30)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
        tags = {t.name for t in stub.ListTags(pb.ListTagsRequest(), timeout=30).tags}  # reads still work
        assert "Bug" in tags and "Onboarding" not in tags
        assert stub.ClassifyComments(classify(comment("a", "Slack crashes")), timeout=30).comments
        assert process.poll() is None
    assert "readonly database" in log.read_text()
    holder.close()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store(url) as store:
        assert {c.correction_id for c in store.corrections()} == {f"before-{i}" for i in range(3)}
        assert "Onboarding" not in store.taxonomy(DEFAULT_ACCOUNT)


def test_a_read_only_store_that_cannot_be_opened_stops_the_server_at_start(tiny_registry: Registry, tmp_path: Path,
                                                                           store_dir: Path) -> None:
    database = store_dir / "store.db"
    _store_before(f"sqlite:///{database}")  # closed: no -wal or -shm file left to read it with
    serve = subprocess.run([*_read_only(store_dir), *verbatim_command(), "serve"], capture_output=True, text=True,
                           timeout=120, env={"HF_HUB_OFFLINE": "1", "VERBATIM_REGISTRY": str(tiny_registry.root),
                                             "VERBATIM_STORE_URL": f"sqlite:///{database}",
                                             "VERBATIM_INSECURE_NO_AUTH": "1", "VERBATIM_PORT": "0",
                                             "VERBATIM_METRICS_PORT": "0", "PATH": "/usr/bin:/bin"})
    assert serve.returncode != 0
    assert "cannot open the store" in serve.stderr and str(database) in serve.stderr, serve.stderr
