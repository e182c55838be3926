"""The README's "Try it" block, run as written: a new user's whole path through the CLI.

Serve, classify a CSV into JSONL, import corrections from a CSV, retrain, see the new
champion in `verbatim registry list`, roll back. The only change to the block is where
`.venv/bin/` points (this interpreter's environment); the server serves a copy of the tiny
registry, with a store and ports of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verbatim.models.registry import Registry
from verbatim.store.store import Store
from tests.serve_process import free_port

README = Path(__file__).resolve().parents[1] / "README.md"


def walkthrough() -> str:
    match = re.search(r"<!-- walkthrough -->\n```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert match, "the README has no <!-- walkthrough --> block"
    return match.group(1)


def csv_rows(script: str, name: str) -> list[str]:
    """The data lines of the heredoc that writes `name`."""
    body = re.search(rf"cat > {re.escape(name)} <<'CSV'\n(.*?)\nCSV\n", script, flags=re.DOTALL)
    assert body, name
    return body.group(1).splitlines()[1:]


@pytest.mark.timeout(600)
def test_readme_walkthrough_runs_as_written(tiny_registry: Registry, tmp_path: Path) -> None:
    script = walkthrough()
    registry = Registry(shutil.copytree(tiny_registry.root, tmp_path / "registry"))
    first = registry.champion()
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_REGISTRY": str(registry.root),
                        "VERBATIM_STORE_URL": store_url, "VERBATIM_PORT": str(free_port()),
                        "VERBATIM_METRICS_PORT": "0"}
    bin_dir = Path(sys.executable).parent
    runnable = "set -euo pipefail\n" + script.replace(".venv/bin/", f"{bin_dir}/")
    done = subprocess.run(["bash", "-c", runnable], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=540)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    # classify: one JSON object per CSV row, in the file's order, from the champion of the time.
    results = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in results] == [row.split(",", 1)[0] for row in csv_rows(script, "comments.csv")]
    assert {r["model_version"] for r in results} == {first}

    # correct: every row is in the store.
    with Store(store_url) as store:
        stored = store.corrections()
    assert sorted(c.correction_id for c in stored) == \
        sorted(row.split(",", 1)[0] for row in csv_rows(script, "corrections.csv"))
    # ...each recorded with the name of the key the walkthrough made.
    assert {c.key_name for c in stored} == {"laptop"}

    # retrain promoted a new version, `registry list` starred it, rollback brought the first back.
    events = [(e["action"], e["version"]) for e in registry.history()]
    promoted = [v for action, v in events if action == "promote" and v != first]
    assert len(promoted) == 1, events
    assert events[-1] == ("rollback", first)
    starred = [line for line in done.stdout.splitlines() if line.startswith("*")]
    assert len(starred) == 1 and promoted[0][:24] in starred[0], done.stdout
    assert registry.champion() == first
