"""`verbatim correct --data FILE` against a real server and store: chunked, idempotent, counted."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.clients.conftest import MAX_COMMENTS
from verbatim.cli import main
from verbatim.store import Store

WHEN = "2026-03-01T00:00:00Z"
HEADER = ("correction_id", "comment_id", "text", "tag", "action", "predicted_by_model", "sentiment", "actor", "time")


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([HEADER, *rows])
    return path


def test_a_csv_of_corrections_is_imported_once(target: str, store: Store, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"cli-{i}", f"cmt-{i}", "The app crashes on login", "Bug", "ADD" if i % 2 else "remove",
             "true" if i % 3 else "false", "", "ana@example.com", "2026-03-01T12:30:00Z")
            for i in range(2 * MAX_COMMENTS + 1)]
    rows.append(("cli-sentiment", "cmt-s", "meh", "", "", "", "NEUTRAL", "", "2026-03-02T08:00:00+00:00"))
    data = write_csv(tmp_path / "corrections.csv", rows)
    assert main(["correct", "--data", str(data), "--target", target]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{len(rows)} corrections: {len(rows)} stored, 0 already stored\n"
    assert f"{len(rows)}/{len(rows)}" in captured.err  # progress
    assert main(["correct", "--data", str(data), "--target", target, "--batch-size", "4", "--no-progress"]) == 0
    assert capsys.readouterr().out == f"{len(rows)} corrections: 0 stored, {len(rows)} already stored\n"
    # In the store, read back independently of the CLI.
    stored = {c.correction_id: c for c in store.corrections() if c.correction_id.startswith("cli-")}
    assert len(stored) == len(rows)
    assert stored["cli-1"].tag == "Bug" and stored["cli-1"].action.name == "ADD"
    assert stored["cli-2"].action.name == "REMOVE" and stored["cli-2"].predicted_by_model is True
    assert stored["cli-3"].predicted_by_model is False
    assert stored["cli-sentiment"].sentiment == "neutral" and stored["cli-sentiment"].tag == ""
    assert stored["cli-0"].time == datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)


def test_jsonl_corrections_with_their_own_account(target: str, store: Store, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "corrections.jsonl"
    data.write_text(json.dumps({"correction_id": "cli-j1", "comment_id": 1, "text": "so slow", "tag": "Performance",
                                "action": "add", "predicted_by_model": False, "time": "2026-03-01T00:00:00Z",
                                "tag_sentiment": "negative"}) + "\n")
    assert main(["correct", "--data", str(data), "--target", target, "--no-progress"]) == 0
    assert capsys.readouterr().out == "1 corrections: 1 stored, 0 already stored\n"
    [stored] = [c for c in store.corrections() if c.correction_id == "cli-j1"]
    assert stored.tag_sentiment == "negative"


@pytest.mark.parametrize(("row", "message"), [
    (("c1", "m1", "text", "Bug", "", "", "", "", WHEN), ":2: tag 'Bug' needs an action, ADD or REMOVE"),
    (("c1", "m1", "text", "Bug", "KEEP", "", "", "", WHEN), ":2: action 'KEEP' is not one of ADD, REMOVE"),
    (("c1", "m1", "text", "Bug", "ADD", "", "", "", ""), ":2: no 'time' field"),
    (("c1", "m1", "text", "Bug", "ADD", "", "", "", "yesterday"), ":2: time 'yesterday' is not ISO 8601"),
    (("c1", "m1", "text", "", "", "", "", "", WHEN), ":2: nothing to correct"),
    (("c1", "m1", "text", "Bug", "ADD", "maybe", "", "", WHEN), ":2: predicted_by_model 'maybe'"),
    (("c1", "", "text", "Bug", "ADD", "", "", "", WHEN), ":2: no 'comment_id' field"),
])
def test_a_bad_row_stops_the_import_before_anything_is_sent(target: str, tmp_path: Path, store: Store,
                                                            capsys: pytest.CaptureFixture[str],
                                                            row: tuple[str, ...], message: str) -> None:
    good = ("cli-never", "m0", "text", "Bug", "ADD", "", "", "", "2026-03-01T00:00:00Z")
    data = write_csv(tmp_path / "bad.csv", [row, good])
    assert main(["correct", "--data", str(data), "--target", target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"bad.csv{message}" in err
    assert "cli-never" not in {c.correction_id for c in store.corrections()}


def test_a_correction_the_server_refuses_is_one_line(target: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = write_csv(tmp_path / "unknown.csv", [("cli-u", "m1", "text", "Nope", "ADD", "", "", "",
                                                 "2026-03-01T00:00:00Z")])
    assert main(["correct", "--data", str(data), "--target", target, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("verbatim: error: INVALID_ARGUMENT from ") and "Nope" in err and err.count("\n") == 1
