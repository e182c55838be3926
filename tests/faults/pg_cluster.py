"""A throwaway PostgreSQL cluster that a test may stop and start (the shared one of .ci/postgres.sh must
stay up for the other tests): initdb into a temp dir, loopback only, a free port; run as the postgres
user when root (initdb refuses root), as .ci/postgres.sh does."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.serve_process import free_port


def bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True) + \
            [str(Path(p).parent) for p in [shutil.which("initdb")] if p]:
        if all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def require_postgres() -> Path:
    found = bindir()
    if found is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) are missing; run `bash .ci/postgres.sh` (apt)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


class Cluster:
    def __init__(self, root: Path) -> None:
        self.bin = require_postgres()
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        self._as_pg(self.bin / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--locale=C",
                    "--encoding=UTF8")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._as_pg(self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-t", "60",
                    "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}", "start")

    def stop(self) -> None:
        self._as_pg(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run(self._command(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"),
                       capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _command(self, *args: object) -> list[str]:
        command = [str(a) for a in args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _as_pg(self, *args: object) -> None:
        result = subprocess.run(self._command(*args), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stderr}{result.stdout}")
