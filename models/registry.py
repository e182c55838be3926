"""A file-system model registry: immutable versions plus a `champion` pointer swapped atomically.

Layout:
    <root>/versions/<version>/   one complete artifact per version
    <root>/staging/              artifacts being written; never read by servers
    <root>/champion              the champion's version name

A version directory appears only by rename() of a fully written staging directory,
and the champion file only by os.replace() of a fully written temp file, so a crash
never leaves a half-written champion.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


REGISTRY_ENV = "VERBATIM_REGISTRY"
DEFAULT_REGISTRY = Path("var/registry")


class RegistryError(RuntimeError):
    pass


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

    def promote(self, version: str) -> None:
        """Make `version` the champion, atomically."""
        self.path(version)
        fd, tmp = tempfile.mkstemp(prefix=".champion.", dir=self.root)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(version + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.champion_file)
            _fsync_dir(self.root)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
