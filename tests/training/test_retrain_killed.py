"""A retrain killed at ten points of its file-system work, three of them inside the promotion,
leaves the champion and the store intact, and the next retrain finishes.

Each run is tests/training/killed_retrain.py on a fresh copy of one registry and store: a full retrain
on the tiny encoder that has new corrections to learn, so it stages, publishes, promotes, reports and
prunes. A first run without a kill lists its steps (every fsync, rename and replace); the kills are
placed before steps drawn from that list with a fixed seed.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.retrain_setup import CONFIG, labelled, submit
from verbatim.models.artifact import Artifact
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import Tag
from verbatim.store import Store
from verbatim.training.retrain import retrain
from verbatim.training.retrain_report import Decision

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
KILLS = 10
IN_PROMOTION = 3


def _run(root: Path, steps: Path, kill_at: int | None = None) -> int:
    argv = [sys.executable, "-m", "tests.training.killed_retrain", f"sqlite:///{root / 'store.db'}", str(root / "registry"), str(steps)]
    return subprocess.run([*argv, *([str(kill_at)] if kill_at else [])], cwd=REPO, timeout=300).returncode


def _kill_points(steps: list[dict[str, object]]) -> list[int]:
    promotion = [s["step"] for s in steps if s["phase"] == "promote"]
    others = [s["step"] for s in steps if s["phase"] != "promote"]
    assert len(promotion) >= IN_PROMOTION and len(others) >= KILLS - IN_PROMOTION, steps
    spread = [promotion[round(i * (len(promotion) - 1) / (IN_PROMOTION - 1))] for i in range(IN_PROMOTION)]
    return sorted([*spread, *random.Random(15).sample(others, KILLS - IN_PROMOTION)])  # type: ignore[list-item]


@pytest.fixture()
def original(tiny_registry: Registry, tmp_path: Path) -> Path:
    """A registry and a store with corrections its champion has not learnt yet."""
    root = tmp_path / "original"
    shutil.copytree(tiny_registry.root, root / "registry")
    with Store(f"sqlite:///{root / 'store.db'}") as store:
        store.put_tags("toy", [Tag("Cats"), Tag("Dogs")])
        submit(store, labelled("toy", ("Cats", "Dogs"), 40))
    return root


def _corrections(root: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(root / "store.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT * FROM corrections ORDER BY correction_id").fetchall()


def test_a_retrain_killed_at_ten_points_leaves_champion_and_store_intact(original: Path, tmp_path: Path) -> None:
    registry = Registry(original / "registry")
    champion, versions, corrections = registry.champion(), registry.versions(), _corrections(original)

    clean = tmp_path / "clean"
    shutil.copytree(original, clean)
    assert _run(clean, tmp_path / "steps.jsonl") == 0
    assert Registry(clean / "registry").champion() != champion, "the uninterrupted run must promote"
    steps = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]

    outcomes = []
    for kill_at in _kill_points(steps):
        root = tmp_path / f"killed-{kill_at}"
        shutil.copytree(original, root)
        assert _run(root, tmp_path / f"steps-{kill_at}.jsonl", kill_at) == -signal.SIGKILL
        killed = Registry(root / "registry")
        after = killed.champion()
        # The champion is the old one or the new one, whole; no version is half there.
        assert after == champion or after not in versions, after
        for version in killed.versions():
            Artifact.load(killed.path(version))
        assert set(versions) <= set(killed.versions())
        assert _corrections(root) == corrections
        with Store(f"sqlite:///{root / 'store.db'}") as store:
            report = retrain(store, killed, CONFIG, progress=False)
        assert report.decision in (Decision.PROMOTED, Decision.NOTHING_NEW, Decision.REJECTED), report.reasons
        assert killed.champion() != champion, (kill_at, steps[kill_at - 1], report.decision, report.reasons)
        assert not list(killed.staging_dir.iterdir()) and not list(killed.root.glob(".*.tmp"))
        phase = steps[kill_at - 1]["phase"]
        outcomes.append(f"step {kill_at} ({steps[kill_at - 1]['call']} in {phase}): champion "
                        f"{'new' if after != champion else 'old'} after the kill, next run {report.decision.value}")
    print("\n".join(outcomes))
