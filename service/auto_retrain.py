"""An account's first minutes: the quick retrain, started by the server itself.

A new account's tags are served by its keyword rules until a model has learned them. With
`VERBATIM_RETRAIN_AFTER=N`, the server starts the quick path (`python -m verbatim.training
retrain --heads-only`) once N new corrections have been stored since it last started one;
with `VERBATIM_RETRAIN_EVERY_S=S`, also every S seconds. Both are off by default. The job
runs as a child process, one at a time, so serving never waits for it; the reloader then
picks up the champion it promotes. Corrections that arrive during a run count toward the
next one. The job takes the registry's retrain lock, so it never races a cron or an
operator's run (it exits 4 and the next trigger tries again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

# The retrain job's exit codes (verbatim.training.__main__), for the log line.
OUTCOMES = {0: "promoted or nothing new", 1: "failed", 2: "usage error", 3: "challenger rejected",
            4: "another retrain holds the lock"}


def quick_retrain_argv(registry: Path) -> list[str]:
    """The quick path on `registry`; the store URL travels in the environment, never on a
    command line that `ps` would show to every user of the machine."""
    return [sys.executable, "-m", "verbatim.training", "retrain", "--heads-only", "--registry", str(registry)]


class AutoRetrain:
    """Starts the retrain command after `after_corrections` new corrections and/or every
    `every_s` seconds (0 turns each off). Call `corrections_stored` from the event loop."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], log_path: Path, *, after_corrections: int = 0,
                 every_s: float = 0.0) -> None:
        self.argv = list(argv)
        self.env = env
        self.log_path = log_path
        self.after_corrections = after_corrections
        self.every_s = every_s
        self.pending = 0  # corrections stored since the last start
        self.runs: list[int] = []  # exit codes, oldest first
        self._job: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._schedule: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def enabled(self) -> bool:
        return self.after_corrections > 0 or self.every_s > 0

    @property
    def running(self) -> bool:
        return self._job is not None and not self._job.done()

    def start(self) -> None:
        """Start the schedule, if there is one."""
        if self.every_s > 0:
            self._schedule = asyncio.get_running_loop().create_task(self._every())

    def corrections_stored(self, count: int) -> None:
        """Count newly stored corrections; start a run once enough have arrived."""
        if self.after_corrections <= 0 or count <= 0:
            return
        self.pending += count
        if self.pending >= self.after_corrections:
            self._launch("after corrections")

    async def wait_idle(self) -> None:
        """Until the current run, and any it chains to, has finished."""
        while self.running:
            await asyncio.shield(self._job)  # type: ignore[arg-type]

    async def stop(self, grace_s: float) -> None:
        """Stop the schedule; ask a running job to stop (SIGTERM), kill it after `grace_s`.

        The job writes its artifact in staging and swaps the champion atomically, so a stopped
        job promotes nothing half-written.
        """
        self._stopping = True  # nothing starts from here on, whatever arrives during the drain
        if self._schedule is not None:
            self._schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._schedule
        if self._process is not None and self._process.returncode is None:
            logger.info("stopping the running quick retrain")
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), grace_s)
            except asyncio.TimeoutError:
                self._process.kill()
        if self._job is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._job

    def _launch(self, reason: str) -> None:
        if self._stopping or self.running:
            return  # a running one's end looks at the pending count again
        self.pending = 0
        self._job = asyncio.get_running_loop().create_task(self._run(reason))

    async def _every(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self._launch("schedule")

    async def _run(self, reason: str) -> None:
        logger.info("quick retrain started (%s)", reason)
        try:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self._process = await asyncio.create_subprocess_exec(
                    *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=log,
                    env=os.environ | self.env)
                code = await self._process.wait()
        except OSError as exc:  # its log, or the process itself, could not be created
            logger.error("quick retrain could not start: %s", exc)
            self.runs.append(-1)
            return
        self.runs.append(code)
        level = logging.INFO if code in (0, 3, 4) or self._stopping else logging.ERROR
        logger.log(level, "quick retrain exited %d (%s); its output is in %s", code,
                   OUTCOMES.get(code, "killed"), self.log_path)
        if not self._stopping and self.after_corrections > 0 and self.pending >= self.after_corrections:
            self._job = None
            self._launch("corrections during the last run")
