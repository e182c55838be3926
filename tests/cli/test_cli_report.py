"""`verbatim report`: a hand-counted file summarised in process and through a real server, its files, and
its one-line errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from verbatim.cli import main
from verbatim.models.registry import Registry

# 2026-Q3: six NPS answers, hand-counted: promoters 10, 9, 9 (3); passives 8 (1); detractors 3, 0 (2)
# -> NPS = (3 - 2) / 6 = 16.7. Bug on the two detractors and on one promoter; Slack (so Integrations) on 9.
# 2026-Q2: two answers, 10 (Bug) and 6 -> NPS 0; Bug's share then was 1 of 2 commented = 50 %.
ROWS = [
    ("2026-07-02T10:00:00Z", "10", "Great product", "Bug", "enterprise"),
    ("2026-07-09T10:00:00Z", "9", "Slack sync is handy", "Slack", "team"),
    ("2026-08-03T10:00:00Z", "9", "", "", "team"),
    ("2026-08-10T10:00:00Z", "8", "fine", "Price", "team"),
    ("2026-09-01T10:00:00Z", "3", "Crashes daily", "Bug", "enterprise"),
    ("2026-09-30T23:00:00Z", "0", "Crashes and is slow", "Bug;Performance", "team"),
    ("2026-05-05T10:00:00Z", "10", "One bug but fine", "Bug", "team"),
    ("2026-06-05T10:00:00Z", "6", "meh", "Usability", "team"),
    ("2026-10-01T00:00:00Z", "0", "outside both periods", "Bug", "team"),
]


def write_rows(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("time", "score", "text", "tags",
                                                                                      "plan")) -> Path:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow((*header, "survey_type"))
        writer.writerows((*row, "nps") for row in rows)
    return path


def report(tmp_path: Path, *extra: str, data: Path | None = None) -> dict[str, Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "out"
    args = ["report", "--data", str(data or write_rows(tmp_path / "responses.csv", ROWS)), "--out", str(out),
            "--period", "2026-Q3", "--compare-to", "previous", "--segment", "plan", "--min-count", "1",
            "--min-segment-size", "1", "--no-progress", *extra]
    assert main(args) == 0
    return json.loads((out / "summary.json").read_text())


def tag(summary: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in summary["current"]["tags"] if t["name"] == name)


def test_in_process_figures_match_a_hand_count(tiny_registry: Registry, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    document = report(tmp_path, "--registry", str(tiny_registry.root))
    summary = document["summary"]
    figures = summary["current"]["figures"]
    assert (figures["responses"], figures["commented"]) == (6, 5)
    assert figures["score"]["value"] == pytest.approx(100 / 6)
    assert summary["prior"]["score"]["value"] == pytest.approx(0.0)
    assert summary["score_change"] == pytest.approx(100 / 6)
    bug = tag(summary, "Bug")
    assert bug["count"] == 3 and bug["share"] == pytest.approx(60.0)  # 3 of 5 commented
    assert bug["score"]["value"] == pytest.approx(100 * (1 - 2) / 3)
    assert bug["change"]["share_points"] == pytest.approx(60.0 - 50.0)
    # without Bug's three: 9, 9, 8 -> NPS 66.7; impact = 16.7 - 66.7
    assert bug["impact"] == pytest.approx(100 / 6 - 200 / 3)
    assert tag(summary, "Integrations")["count"] == 1  # Slack's parent
    assert {s["name"] for s in summary["segments"]} == {"team", "enterprise"}
    assert document["meta"]["period"] == "2026-Q3 (2026-07-01 to 2026-09-30)"
    assert document["meta"]["prior_period"] == "2026-Q2 (2026-04-01 to 2026-06-30)"
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    # no sentiment chart: the given rows carry no sentiment
    assert files == sorted(["report.html", "summary.json", *(f"chart-{n}.png" for n in (
        "bands", "impact", "segments", "share", "trend"))])
    out = capsys.readouterr().out
    assert "NPS 16.7 (+16.7 since 2026-Q2) over 6 scored responses" in out
    assert "drags it down most: Bug (-50.0)" in out


def test_through_a_server_the_summary_is_the_same(tiny_registry: Registry, target: str, tmp_path: Path) -> None:
    local = report(tmp_path / "local", "--registry", str(tiny_registry.root))["summary"]
    remote = report(tmp_path / "remote", "--target", target, "--batch-size", "5")["summary"]
    assert remote == local


def test_rows_without_tags_are_classified(tiny_registry: Registry, target: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(time, score, text, "", plan) for time, score, text, _tags, plan in ROWS]
    data = write_rows(tmp_path / "untagged.csv", rows)
    for where in (["--registry", str(tiny_registry.root)], ["--target", target, "--batch-size", "5"]):
        report(tmp_path / where[0].strip("-"), *where, data=data)
        # the nine rows: eight with a comment go to the model, the blank one does not
        assert "9 responses (8 classified by " in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--compare-to", "2026-Q2"], "--compare-to needs --period"),
    (["--period", "2026-Q5"], "--period: '2026-Q5' is not a period; use 2026-Q3, 2026-07, 2026 or"),
    (["--period", "2026-09-30..2026-07-01"], "--period: '2026-09-30..2026-07-01' ends before it starts"),
    (["--tz", "Mars/Olympus"], "--tz 'Mars/Olympus': not an IANA time zone name"),
    (["--segment", "region"], "--segment: no response has the property 'region'"),
])
def test_bad_options_fail_in_one_line(tiny_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      args: list[str], message: str) -> None:
    data = write_rows(tmp_path / "responses.csv", ROWS)
    code = main(["report", "--data", str(data), "--out", str(tmp_path / "out"), "--registry",
                 str(tiny_registry.root), "--no-progress", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("verbatim: error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out" / "report.html").exists()


@pytest.mark.parametrize("row, message", [
    (("2026-07-02", "11", "x", "Bug", "team"), ":3: score: 11 is out of range for NPS"),
    (("yesterday", "5", "x", "Bug", "team"), ":3: time: 'yesterday' is not an ISO 8601 time"),
    (("2026-07-02", "7.5", "x", "Bug", "team"), ":3: score: must be a whole number, got '7.5'"),
    (("2026-07-02", "5", "x", "Weather", "team"), ":3: tags: unknown tag 'Weather'"),
])
def test_a_bad_row_is_named_by_file_and_line(tiny_registry: Registry, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str], row: tuple[str, ...],
                                             message: str) -> None:
    data = write_rows(tmp_path / "responses.csv", [ROWS[0], row])
    code = main(["report", "--data", str(data), "--out", str(tmp_path / "out"), "--registry",
                 str(tiny_registry.root), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and f"{data}{message}" in err, err


def test_a_server_refusal_names_the_row(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the tag exists locally nowhere: only the server knows the account's taxonomy
    data = write_rows(tmp_path / "responses.csv", [ROWS[0], ROWS[1], ("2026-07-03", "5", "x", "Weather", "team")])
    code = main(["report", "--data", str(data), "--out", str(tmp_path / "out"), "--target", target,
                 "--batch-size", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and f"{data}:4: refused by the server: responses[2].given.tags: unknown tag 'Weather'" in err, err
