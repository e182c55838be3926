"""The README's report example, run as written on the demo file (examples/nps_responses.csv), then opened
in headless chromium.

The only change to the command is where `.venv/bin/` points (this interpreter's environment); the
registry is a copy of the tiny test model's, so the tags are not meaningful, but every step runs: the
classification of the untagged comments, both quarters, the plan breakdown, the files and the page.
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

from tests.analytics.render.browser import visit
from verbatim.models.registry import Registry

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "nps_responses.csv"


def report_command() -> str:
    block = re.search(r"<!-- report example[^>]*-->.*?```sh\n(.*?)```", (REPO / "README.md").read_text(),
                      flags=re.DOTALL)
    assert block, "the README has no <!-- report example --> block"
    return block.group(1).strip()


def test_the_demo_file_tells_the_story_it_is_meant_to() -> None:
    # two quarters, two plans, several regions, 2,000 NPS responses: what the demo asks for
    import csv

    with open(DEMO, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2000
    assert {r["time"][:7] for r in rows} == {f"2026-{m:02d}" for m in range(4, 10)}
    assert {r["plan"] for r in rows} == {"team", "enterprise"}
    assert len({r["region"] for r in rows}) >= 3
    assert {r["survey_type"] for r in rows} == {"nps"}
    # written one by one: short answers ("ok", "meh") recur as they do in real surveys, nothing longer does
    longer = [r["text"] for r in rows if len(r["text"]) > 30]
    assert len(set(longer)) == len(longer)


@pytest.mark.timeout(600)
def test_readme_report_example_runs_and_opens(tiny_registry: Registry, tmp_path: Path) -> None:
    command = report_command()
    assert command.startswith(".venv/bin/verbatim report --data examples/nps_responses.csv")
    (tmp_path / "examples").mkdir()
    shutil.copy(DEMO, tmp_path / "examples" / DEMO.name)
    registry = shutil.copytree(tiny_registry.root, tmp_path / "registry")
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_REGISTRY": str(registry)}
    done = subprocess.run(["bash", "-c", command.replace(".venv/bin/", f"{Path(sys.executable).parent}/")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2000 responses (" in done.stdout and "NPS " in done.stdout, done.stdout

    out = tmp_path / "report"
    document = json.loads((out / "summary.json").read_text())
    summary = document["summary"]
    assert document["meta"]["period"].startswith("2026-Q3") and document["meta"]["prior_period"].startswith("2026-Q2")
    assert summary["current"]["figures"]["responses"] == 1000  # the Q3 half of the demo file
    assert summary["prior"]["responses"] == 1000
    assert {s["name"] for s in summary["segments"]} == {"team", "enterprise"}
    charts = sorted(p.stem.removeprefix("chart-") for p in out.glob("chart-*.png"))
    shown = visit(out / "report.html", charts, tmp_path / "report.png")
    assert shown.problems == [] and all(r == shown.url for r in shown.requests)
    assert shown.charts == len(charts) >= 5
    assert all(box is not None and box["width"] > 100 and box["height"] > 100 for box in shown.boxes.values())
