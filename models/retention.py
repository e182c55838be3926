"""Retention: which registry versions and retrain reports to delete, so rejected challengers and old
reports do not pile up on the shared volume forever.

Kept, whatever the counts: the champion; the champion before it in the champion history (what
`verbatim registry rollback` goes back to); every version newer than the champion (a challenger
being staged or just published, not yet judged); the newest `keep_versions` versions; the newest
`keep_reports` retrain reports (a `.json` and its `.md`), and the reports of every kept version.
Nothing else in `reports/` (the server's auto-retrain log, the runs tally) is touched, nor is
`staging/`. Run it while holding the retrain lock, so no retrain publishes meanwhile.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from verbatim.models.registry import REPORTS_DIR, Registry, champion_stack

KEEP_VERSIONS = 5
KEEP_REPORTS = 50


@dataclass(frozen=True)
class Pruned:
    versions: tuple[str, ...]
    reports: tuple[str, ...]  # report names (the file stem: a version or a run id)


def protected_versions(registry: Registry, keep_versions: int = KEEP_VERSIONS) -> set[str]:
    """The versions prune() never deletes."""
    versions = registry.versions()
    champion = registry.champion()
    keep = set(versions[-keep_versions:]) if keep_versions > 0 else set()
    if champion is not None:
        keep.add(champion)
        keep.update(v for v in versions if v > champion)  # names are UTC timestamps: newer sorts later
        stack = champion_stack(registry.history())
        if stack and stack[-1] != champion:
            stack.append(champion)  # promoted without a record: the last recorded one is its predecessor
        keep.update(stack[-2:])
    return keep


def prune(registry: Registry, keep_versions: int = KEEP_VERSIONS, keep_reports: int = KEEP_REPORTS,
          dry_run: bool = False) -> Pruned:
    """Delete what the policy does not keep (nothing with `dry_run`); returns what was (or would be) deleted."""
    if keep_versions < 1 or keep_reports < 0:
        raise ValueError("keep_versions must be >= 1 and keep_reports >= 0")
    for leftover in registry.root.glob(".deleting-*"):  # a prune that crashed mid-delete
        if not dry_run:
            shutil.rmtree(leftover, ignore_errors=True)
    keep = protected_versions(registry, keep_versions)
    doomed = [v for v in registry.versions() if v not in keep]
    reports = _reports(registry.root / REPORTS_DIR)
    kept_reports = {stem for stem, _ in reports[-keep_reports:]} if keep_reports else set()
    doomed_reports = [stem for stem, _ in reports if stem not in kept_reports and stem not in keep]
    if not dry_run:
        for version in doomed:
            # Rename first, so a crash mid-delete never leaves a half-deleted version that looks whole.
            aside = registry.root / f".deleting-{version}"
            (registry.versions_dir / version).rename(aside)
            shutil.rmtree(aside)
        for stem in doomed_reports:
            for suffix in (".json", ".md"):
                (registry.root / REPORTS_DIR / f"{stem}{suffix}").unlink(missing_ok=True)
    return Pruned(tuple(doomed), tuple(doomed_reports))


def _reports(directory: Path) -> list[tuple[str, float]]:
    """Retrain reports as (stem, mtime), oldest first; a report is a `.json` with its `.md` beside it."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("*.json"):
        if path.name.startswith(".") or not path.with_suffix(".md").exists():
            continue  # a temp file, or not a retrain report (e.g. the runs tally)
        try:
            found.append((path.stem, path.stat().st_mtime))
        except FileNotFoundError:
            continue
    return sorted(found, key=lambda item: (item[1], item[0]))
