"""A file-system model registry: immutable versions plus a `champion` pointer swapped atomically.

Layout:
    <root>/versions/<version>/   one complete artifact per version
    <root>/staging/              artifacts being written; never read by servers
    <root>/champion              the champion's version name
    <root>/champion_history.json every promotion and rollback, oldest first

A version directory appears only by rename() of a fully written staging directory,
and the champion file only by os.replace() of a fully written temp file, so a crash
never leaves a half-written champion. Promotions and rollbacks take a file lock, so the
history records them in the order they happened; it is written after the pointer, so a
crash between the two leaves a champion that the history does not name yet, which
rollback() takes into account.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


REGISTRY_ENV = "VERBATIM_REGISTRY"
HISTORY_FILE = "champion_history.json"
REPORTS_DIR = "reports"  # the retrain job's reports, which the servers export as metrics
LOCK_FILE = ".promote.lock"
DEFAULT_REGISTRY = Path("var/registry")
ANY_CHAMPION = object()  # Registry.promote's `expected` when any champion may be replaced


class RegistryError(RuntimeError):
    pass


class ChampionChanged(RegistryError):
    """The champion is no longer the one a promotion expected to replace."""


def registry_path(flag: str | Path | None = None) -> Path:
    """The registry directory: the `--registry` flag, else $VERBATIM_REGISTRY, else var/registry."""
    return Path(flag or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY)


def new_version(fingerprint: str = "") -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    return f"v{stamp}" + (f"-{fingerprint[:8]}" if fingerprint else "")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Registry:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.staging_dir = self.root / "staging"
        self.champion_file = self.root / "champion"

    def versions(self) -> list[str]:
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir())

    def path(self, version: str) -> Path:
        path = self.versions_dir / version
        if not path.is_dir():
            raise RegistryError(f"model version {version!r} is not in the registry at {self.root}")
        return path

    def champion(self) -> str | None:
        try:
            version = self.champion_file.read_text().strip()
        except FileNotFoundError:
            return None
        return version or None

    def champion_path(self) -> Path | None:
        version = self.champion()
        return self.path(version) if version else None

    @contextmanager
    def stage(self, version: str) -> Iterator[Path]:
        """A directory to write an artifact into; published as `version` only if the block succeeds."""
        if (self.versions_dir / version).exists():
            raise RegistryError(f"model version {version!r} already exists")
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{version}.", dir=self.staging_dir))
        in_use = os.open(staging, os.O_RDONLY)
        fcntl.flock(in_use, fcntl.LOCK_EX)  # remove_leftovers skips it while this writer lives
        try:
            yield staging
            for file in staging.rglob("*"):
                if file.is_file():
                    with open(file, "rb") as handle:
                        os.fsync(handle.fileno())
            os.rename(staging, self.versions_dir / version)
            _fsync_dir(self.versions_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            os.close(in_use)

    def promote(self, version: str, expected: str | None | object = ANY_CHAMPION) -> None:
        """Make `version` the champion, atomically, and record it in the history.

        With `expected`, only if the champion is still that version (None: no champion);
        otherwise ChampionChanged, and nothing changes.
        """
        self.path(version)
        with self._locked():
            previous = self.champion()
            if expected is not ANY_CHAMPION and previous != expected:
                raise ChampionChanged(f"the champion is {previous}, not {expected}")
            events = self.history()  # read before the swap: a bad history must not leave it half done
            self._swap_champion(version)
            self._record(events, "promote", version, previous)

    def rollback(self) -> str:
        """Make the champion before the current one the champion again, atomically; returns it."""
        with self._locked():
            current = self.champion()
            events = self.history()
            stack = champion_stack(events)
            if current is None or (stack and stack[-1] == current):
                pass
            elif current in stack:
                # A rollback that crashed before its record: the champion is already further back.
                del stack[len(stack) - stack[::-1].index(current):]
            else:
                stack.append(current)  # promoted without a record (a crash, or a registry from before history)
            if len(stack) < 2:
                raise RegistryError(f"no earlier champion to roll back to in {self.root}")
            target = stack[-2]
            self.path(target)
            self._swap_champion(target)
            self._record(events, "rollback", target, current)
            return target

    def remove_leftovers(self) -> None:
        """Delete what a writer killed mid-way left: its staging directory (one that a live writer
        holds is skipped) and the champion's and history's temp files."""
        for staging in self.staging_dir.glob("*"):
            try:
                held = os.open(staging, os.O_RDONLY)
            except OSError:
                continue  # gone meanwhile: published or removed by its writer
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(staging, ignore_errors=True)
            except BlockingIOError:
                pass
            finally:
                os.close(held)
        if self.root.is_dir():
            with self._locked():  # not a promote's or rollback's temp file that is about to be renamed
                for leftover in self.root.glob(".*.tmp"):
                    leftover.unlink(missing_ok=True)

    def history(self) -> list[dict[str, str | None]]:
        """Every promotion and rollback, oldest first: {at, action, version, previous}."""
        try:
            return json.loads((self.root / HISTORY_FILE).read_text())
        except FileNotFoundError:
            return []

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if not self.root.is_dir():
            raise RegistryError(f"no registry at {self.root}")
        with open(self.root / LOCK_FILE, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _record(self, events: list[dict[str, str | None]], action: str, version: str, previous: str | None) -> None:
        event = {"at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "action": action,
                 "version": version, "previous": previous}
        atomic_write(self.root / HISTORY_FILE, json.dumps([*events, event], indent=1) + "\n")

    def _swap_champion(self, version: str) -> None:
        atomic_write(self.champion_file, version + "\n")


def champion_stack(history: list[dict[str, str | None]]) -> list[str]:
    """The champions in force, oldest first, replayed from the history: a promotion pushes, a rollback pops."""
    stack: list[str] = []
    for event in history:
        version, previous = event["version"], event.get("previous")
        if previous and (not stack or stack[-1] != previous):
            stack.append(previous)  # a champion set without a record
        if event["action"] == "rollback" and stack:
            stack.pop()
        if version and (not stack or stack[-1] != version):
            stack.append(version)
    return stack


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Write `data` to `path` so a reader sees the old file or the whole new one, never a part.

    The temp file is `.<name>.*.tmp` beside it, which training.lock.remove_leftovers finds
    after a crash; the directory is synced so the rename itself survives one. The file gets
    `mode` (mkstemp's own is 0600).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
