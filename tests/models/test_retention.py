"""Registry retention: old versions and reports go; the champion, its predecessor and newer ones stay."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from verbatim.cli import main as verbatim
from verbatim.models.registry import REPORTS_DIR, Registry
from verbatim.models.retention import prune
from verbatim.training.lock import RETRAIN_LOCK_FILE, RetrainLock


def make(registry: Registry, count: int) -> list[str]:
    versions = [f"v2026010{i // 10}T0000{i % 10:02d}000000Z" for i in range(count)]  # sorted like new_version()
    for version in versions:
        with registry.stage(version) as staging:
            (staging / "artifact.json").write_text("{}")
    return versions


def report(registry: Registry, stem: str, age_s: float) -> None:
    for suffix in (".json", ".md"):
        path = registry.root / REPORTS_DIR / f"{stem}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        os.utime(path, (1_700_000_000 - age_s, 1_700_000_000 - age_s))


def test_keeps_the_champion_its_predecessor_newer_versions_and_the_newest_n(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    v = make(registry, 12)
    registry.promote(v[1])
    registry.promote(v[3])  # v[1] is its predecessor
    registry.promote(v[5])  # the champion; v[3] its predecessor
    pruned = prune(registry, keep_versions=2)
    # v[6:] are newer than the champion (rejected or not yet judged): kept, as are v[10:], the newest 2.
    assert set(registry.versions()) == {v[3], v[5], *v[6:]}
    assert set(pruned.versions) == {v[0], v[1], v[2], v[4]}
    assert registry.champion() == v[5]
    assert registry.rollback() == v[3]  # the rollback target is still there


def test_rejected_challengers_older_than_the_champion_go_beyond_the_newest_n(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    v = make(registry, 8)
    registry.promote(v[7])
    prune(registry, keep_versions=3)
    assert registry.versions() == v[5:]


def test_reports_keep_the_newest_n_and_those_of_kept_versions(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    v = make(registry, 3)
    registry.promote(v[0])
    report(registry, v[0], age_s=1000)  # the champion's own report: kept however old
    for i in range(5):
        report(registry, f"run-{i}", age_s=100 - i)  # run-4 is the newest
    (registry.root / REPORTS_DIR / "auto_retrain.log").write_text("log")
    pruned = prune(registry, keep_versions=5, keep_reports=2)
    assert set(pruned.reports) == {"run-0", "run-1", "run-2"}
    left = sorted(p.name for p in (registry.root / REPORTS_DIR).iterdir())
    assert left == sorted(["auto_retrain.log", f"{v[0]}.json", f"{v[0]}.md", "run-3.json", "run-3.md",
                           "run-4.json", "run-4.md"])


def test_a_dry_run_deletes_nothing(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    v = make(registry, 4)
    registry.promote(v[3])
    assert prune(registry, keep_versions=1, dry_run=True).versions == tuple(v[:3])
    assert registry.versions() == v


def test_verbatim_registry_prune(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    registry = Registry(tmp_path)
    v = make(registry, 4)
    registry.promote(v[3])
    assert verbatim(["registry", "prune", "--registry", str(tmp_path), "--keep-versions", "1"]) == 0
    assert "deleted 3 versions" in capsys.readouterr().out
    assert registry.versions() == [v[3]]
    with RetrainLock(tmp_path / RETRAIN_LOCK_FILE):  # a retrain is running: refuse, delete nothing
        assert verbatim(["registry", "prune", "--registry", str(tmp_path)]) == 2
    assert "another retrain" in capsys.readouterr().err
