"""The retrain tally: counted from older reports once, then one run at a time, and never lowered by a prune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verbatim.models.registry import REPORTS_DIR
from verbatim.models.run_tally import TALLY_FILE, read_tally, record_run, tally_of_reports


def write_report(root: Path, name: str, decision: str, finished_at: str, total: float) -> None:
    directory = root / REPORTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(
        {"decision": decision, "finished_at": finished_at, "durations_s": {"train": total - 1, "total": total}}))
    (directory / f"{name}.md").write_text("# report\n")


def test_the_first_run_counts_the_older_reports_then_itself(tmp_path: Path) -> None:
    write_report(tmp_path, "a", "promoted", "2026-01-01T00:00:00+00:00", 10)
    write_report(tmp_path, "b", "failed", "2026-01-02T00:00:00+00:00", 20)
    assert read_tally(tmp_path) is None
    tally = record_run(tmp_path, {"decision": "rejected", "durations_s": {"embed": 2.0, "train": 3.0}}, 1_800_000_000)
    assert (tally.counts["promoted"], tally.counts["failed"], tally.counts["rejected"]) == (1, 1, 1)
    assert tally.latest_duration_s == 5.0  # no total: the sum of the stages
    assert tally.latest_finished_at == 1_800_000_000 == tally.last_success_at  # a rejection is a success
    assert read_tally(tmp_path) == tally
    assert not (tmp_path / REPORTS_DIR / TALLY_FILE).name.endswith(".json")  # never read as a report


def test_pruning_reports_never_lowers_the_counts(tmp_path: Path) -> None:
    for i in range(3):
        write_report(tmp_path, f"old-{i}", "promoted", f"2026-01-0{i + 1}T00:00:00+00:00", 1)
    record_run(tmp_path, {"decision": "nothing-new"}, 1_800_000_000)
    for path in (tmp_path / REPORTS_DIR).glob("old-*"):
        path.unlink()
    tally = record_run(tmp_path, {"decision": "failed"}, 1_800_000_100)
    assert tally.counts["promoted"] == 3 and tally.counts["nothing-new"] == 1 and tally.counts["failed"] == 1
    assert tally.last_success_at == 1_800_000_000  # the failure is not a success
    assert tally_of_reports(tmp_path).counts["promoted"] == 0  # what a count of the files would have said


def test_an_unreadable_tally_is_none_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / REPORTS_DIR).mkdir()
    (tmp_path / REPORTS_DIR / TALLY_FILE).write_text("{not json")
    assert read_tally(tmp_path) is None
    assert "cannot read the retrain tally" in caplog.text
