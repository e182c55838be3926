"""The retrain lock: O_EXCL with pid@host, stale locks taken over, atomic writes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from verbatim.models.registry import atomic_write
from verbatim.training.lock import LockBusy, RetrainLock, remove_leftovers


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_second_holder_is_refused_and_the_lock_is_released_on_exit(tmp_path: Path) -> None:
    path = tmp_path / "retrain.lock"
    with RetrainLock(path):
        assert path.read_text() == f"{os.getpid()}@{socket.gethostname()}"
        with pytest.raises(LockBusy, match="another retrain"):
            RetrainLock(path).__enter__()
    assert not path.exists()
    with RetrainLock(path):  # free again
        pass


def test_a_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "retrain.lock"
    path.write_text(f"{dead_pid()}@{socket.gethostname()}")
    with RetrainLock(path):
        assert path.read_text().startswith(f"{os.getpid()}@")
    assert not path.exists() and not list(tmp_path.iterdir())


def test_a_lock_from_another_host_is_never_judged_stale(tmp_path: Path) -> None:
    path = tmp_path / "retrain.lock"
    path.write_text(f"{dead_pid()}@some-other-host")
    with pytest.raises(LockBusy, match="some-other-host"):
        RetrainLock(path).__enter__()


def test_an_empty_lock_is_busy_while_young_and_stale_when_old(tmp_path: Path) -> None:
    path = tmp_path / "retrain.lock"
    path.write_text("")  # a holder between create and write, or one that crashed right there
    with pytest.raises(LockBusy):
        RetrainLock(path).__enter__()
    old = time.time() - 3600
    os.utime(path, (old, old))
    with RetrainLock(path):
        pass


def test_exit_leaves_a_lock_that_is_no_longer_ours(tmp_path: Path) -> None:
    path = tmp_path / "retrain.lock"
    lock = RetrainLock(path).__enter__()
    path.write_text("12345@elsewhere")  # taken over by someone who judged us dead
    lock.__exit__(None, None, None)
    assert path.read_text() == "12345@elsewhere"


def test_atomic_write_replaces_whole_files_and_leftovers_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "r.json"
    atomic_write(target, "first")
    atomic_write(target, b"second")
    assert target.read_text() == "second"
    (target.parent / ".r.json.abc.tmp").write_text("half")
    remove_leftovers(target.parent)
    assert [p.name for p in target.parent.iterdir()] == ["r.json"]
