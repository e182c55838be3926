"""Crash-safe job files: a pid lock so two retrains never run at once, and the cleanup of
temp files that a crashed atomic write (models.registry.atomic_write) left behind."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Self

EMPTY_LOCK_GRACE_S = 30.0
RETRAIN_LOCK_FILE = "retrain.lock"
"""In the registry's root: held by a retrain, by a replica training the first champion, and by a prune."""


class LockBusy(RuntimeError):
    """Another live process holds the lock."""


def _owner() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def _alive(owner: str) -> bool:
    pid_text, _, host = owner.partition("@")
    if host and host != socket.gethostname():
        return True  # a process on another host sharing the volume: we cannot tell, so assume alive
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RetrainLock:
    """An O_EXCL lock file holding `pid@host`; a lock whose process is dead is taken over.

    Use as a context manager. The file is removed on exit only if it is still ours.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            if self._create():
                return self
            owner = self._read()
            if owner is None:
                continue  # released between our create and read: try again
            if _alive(owner) or (not owner and self._young()):
                raise LockBusy(f"another retrain ({owner}) holds {self.path}")
            self._take_over(owner)
        raise LockBusy(f"could not take {self.path}: other processes keep racing for it")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._read() == _owner():
            self.path.unlink(missing_ok=True)

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(_owner())
            handle.flush()
            os.fsync(handle.fileno())
        return True

    def _read(self) -> str | None:
        try:
            return self.path.read_text().strip()
        except FileNotFoundError:
            return None

    def _young(self) -> bool:
        # An empty lock is either being written right now or was left by a crash right after
        # its creation; only age tells them apart.
        try:
            return time.time() - self.path.stat().st_mtime < EMPTY_LOCK_GRACE_S
        except FileNotFoundError:
            return False

    def _take_over(self, stale: str) -> None:
        # Move the stale file aside atomically, then check we moved the one we judged stale: a
        # rival may have replaced it in between, and its live lock must be put back, not deleted.
        aside = self.path.with_name(f"{self.path.name}.stale.{os.getpid()}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = aside.read_text().strip()
        if moved != stale:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            raise LockBusy(f"another retrain ({moved}) took {self.path} first")
        aside.unlink(missing_ok=True)


def remove_leftovers(directory: Path) -> None:
    """Delete temp files a crashed writer left in `directory` (call only while holding the lock)."""
    if directory.is_dir():
        for leftover in directory.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
