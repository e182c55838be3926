"""An acknowledged correction survives kill -9 of the process that submitted it.

A child process submits corrections in a loop and prints each correction_id only after
submit_corrections has returned; the test SIGKILLs it mid-run and checks that every printed
id is in the store. (The gRPC-level version of this test lives with the service.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from verbatim.store import Store

REPO = Path(__file__).resolve().parents[2]
WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timezone
    from verbatim.store import Action, Correction, Store

    store = Store(sys.argv[1])
    print("ready", flush=True)
    n = 0
    while True:
        batch = []
        for _ in range(1 + n % 3):
            batch.append(Correction(
                correction_id=f"c{n}", account_id="default", comment_id=f"k{n % 50}",
                text=f"comment {n}", tag="Bug", action=Action.ADD if n % 2 else Action.REMOVE,
                predicted_by_model=False, sentiment=None, actor="writer", time=datetime.now(timezone.utc)))
            n += 1
        store.submit_corrections(batch)
        print(" ".join(c.correction_id for c in batch), flush=True)
""")
ACKNOWLEDGED_BEFORE_KILL = 150


def test_acknowledged_corrections_survive_sigkill(store_url: str, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, str(script), store_url], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    acknowledged: list[str] = []
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n", process.stderr.read() if process.stderr else ""
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL:
            line = process.stdout.readline()
            assert line.endswith("\n"), f"writer died early: {process.stderr.read() if process.stderr else ''}"
            acknowledged += line.split()
        process.send_signal(signal.SIGKILL)
        # Lines the writer printed between our last read and the kill count too; a line cut
        # short by the kill does not.
        rest = process.stdout.read()
        acknowledged += [i for line in rest.splitlines(keepends=True) if line.endswith("\n") for i in line.split()]
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    with Store(store_url) as store:
        stored = {c.correction_id for c in store.corrections()}
        missing = [i for i in acknowledged if i not in stored]
        assert not missing, f"{len(missing)} acknowledged corrections were lost, e.g. {missing[:5]}"
        assert len(stored) >= len(acknowledged)
        # The writer is killed while it works, so at most the batch in flight is unacknowledged.
        assert len(stored) - len(acknowledged) <= 3
        assert store.submit_corrections([next(c for c in store.corrections() if c.correction_id == "c0")]) \
            .duplicates == 1
