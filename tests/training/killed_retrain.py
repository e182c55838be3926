"""What tests/training/test_retrain_killed.py runs: a retrain (the full path, on the tiny random-weight
encoder) that SIGKILLs itself at one of its durable file-system steps, as an OOM kill or a node that
goes away would stop it there.

Usage (from the repository root): python -m tests.training.killed_retrain STORE_URL REGISTRY STEPS_FILE [KILL_AT]
A step is a call of os.fsync, os.rename or os.replace. Each is appended to STEPS_FILE as it starts,
one JSON line: {"step": n, "call": ..., "phase": ...}, the phase being the innermost of `PHASES` on
the stack (`promote` is Registry.promote, champion swap and history record included). With KILL_AT=n
the process kills itself with SIGKILL instead of taking step n (from 1); without it the retrain runs
to the end and exits with its report's exit code.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.training.retrain import retrain
from tests.training.retrain_setup import CONFIG

# Innermost first: a step in Registry.promote is "promote" even though retrain is on the stack too.
PHASES = ("promote", "stage", "prune", "_finish", "retrain")


def _phase() -> str:
    frame = sys._getframe(2)
    names = []
    while frame is not None:
        names.append(frame.f_code.co_name)
        frame = frame.f_back
    return next((name for name in names if name in PHASES), "other")


def _counted(name: str, call: Callable[..., Any], steps: list[int], log: Any, kill_at: int | None) -> Callable[..., Any]:
    def step(*args: Any, **kwargs: Any) -> Any:
        steps[0] += 1
        log.write(json.dumps({"step": steps[0], "call": name, "phase": _phase()}) + "\n")
        log.flush()
        if steps[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return call(*args, **kwargs)
    return step


def main() -> int:
    store_url, registry, steps_file = sys.argv[1:4]
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else None
    steps = [0]
    with open(steps_file, "w") as log:
        for name in ("fsync", "rename", "replace"):
            setattr(os, name, _counted(name, getattr(os, name), steps, log, kill_at))
        with Store(store_url) as store:
            return retrain(store, Registry(registry), CONFIG, progress=False).exit_code


if __name__ == "__main__":
    sys.exit(main())
