"""`verbatim classify` against a real server: text, stdin, CSV/JSONL files in, text/JSONL/CSV out."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clients.conftest import MAX_COMMENTS
from tests.service.harness import Harness
from verbatim.cli import main
from verbatim.models.predictor import Predictor
from verbatim.v1 import verbatim_pb2 as pb

SLACK = "The Slack integration keeps crashing"
REFUND = "I want a refund, the courier lost it"


@pytest.fixture(scope="module")
def shop(server: Harness) -> str:
    """An account served by keyword rules alone (the model never saw it): its tags are certain."""
    from verbatim_client import Client, Tag

    with Client(f"127.0.0.1:{server.port}") as client:
        client.put_tags([Tag("Shipping", keywords=("courier",)), Tag("Returns", parent="Shipping",
                                                                      keywords=("refund",))], account="cli-shop")
    return "cli-shop"


def expected_tags(server: Harness, text: str) -> list[str]:
    """Tag names straight from the raw stub, for comparison."""
    response = server.stub.ClassifyComments(pb.ClassifyCommentsRequest(comments=[pb.Comment(id="1", text=text)]),
                                            timeout=10)
    return [t.name for t in response.comments[0].tags]


def test_one_comment_prints_readable_text(target: str, shop: str, server: Harness, tiny_predictor: Predictor,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", REFUND, "--account", shop, "--target", target]) == 0
    out = capsys.readouterr().out
    label = out.split("sentiment: ")[1].split(" ")[0]  # a tag found by its rule alone says what the comment says
    assert out.splitlines()[:3] == ["tags:", f'  Shipping            1.00  RULE   {label:<8}  "courier"',
                                    f'  Shipping \u203a Returns  1.00  RULE   {label:<8}  "refund"']
    assert f"model: {tiny_predictor.version}" in out
    assert any(f"sentiment: {label} (score " in out for label in ("NEGATIVE", "NEUTRAL", "POSITIVE"))
    assert main(["classify", SLACK, "--target", target]) == 0
    out = capsys.readouterr().out
    assert out.count("\n  ") == len(expected_tags(server, SLACK))  # one indented line per tag


def test_json_prints_one_object_with_the_model_version(target: str, shop: str, server: Harness,
                                                       tiny_predictor: Predictor,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", SLACK, "--target", target, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model_version"] == tiny_predictor.version and result["text"] == SLACK
    assert [t["name"] for t in result["tags"]] == expected_tags(server, SLACK)
    assert main(["classify", REFUND, "--account", shop, "--target", target, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tags"][1] == {"name": "Returns", "parent": "Shipping", "confidence": 1.0, "source": "rule",
                                 "evidence": "refund", "sentiment": result["sentiment"]}


def test_stdin_lines_become_jsonl_in_order(target: str, server: Harness) -> None:
    lines = [f"{SLACK} #{i}" for i in range(MAX_COMMENTS + 2)]
    done = subprocess.run([sys.executable, "-m", "verbatim.cli", "classify", "-", "--target", target],
                          input="\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["text"] for r in records] == lines  # the blank line is skipped
    assert [r["id"] for r in records] == ["1", "2", "3", "5", "6", "7", "8"]  # line numbers
    assert [t["name"] for t in records[4]["tags"]] == expected_tags(server, lines[4])


def test_a_csv_file_into_a_jsonl_file(target: str, server: Harness, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "comments.csv"
    rows = [(f"r{i}", f"Support is slow, ticket {i}", "3" if i % 2 else "", "csat" if i % 2 else "")
            for i in range(2 * MAX_COMMENTS + 1)]
    with open(data, "w", newline="") as file:
        csv.writer(file).writerows([("id", "text", "score", "survey_type"), *rows])
    out = tmp_path / "results.jsonl"
    assert main(["classify", "--data", str(data), "--out", str(out), "--target", target]) == 0
    err = capsys.readouterr().err
    assert f"{len(rows)}/{len(rows)}" in err and f"classified {len(rows)} comments into {out}" in err  # progress
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [r[0] for r in rows]
    assert [t["name"] for t in records[3]["tags"]] == expected_tags(server, rows[3][1])
    assert not (tmp_path / "results.jsonl.part").exists()


def test_a_jsonl_file_to_csv_on_stdout(target: str, shop: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "comments.jsonl"
    data.write_text(f'{{"id": 7, "text": "{REFUND}"}}\n\n{{"text": "fine, thanks"}}\n')
    assert main(["classify", "--data", str(data), "--format", "csv", "--no-progress", "--account", shop,
                 "--target", target]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [(r["id"], r["text"], r["tags"]) for r in rows] == [("7", REFUND, "Shipping; Returns"),
                                                               ("3", "fine, thanks", "")]
    assert rows[0]["sentiment"] in ("negative", "neutral", "positive") and -1 <= float(rows[0]["sentiment_score"]) <= 1
    assert rows[0]["needs_review"] in ("true", "false") and rows[0]["model_version"]


@pytest.mark.parametrize(("content", "suffix", "message"), [
    ('{"id": "1"}\n', ".jsonl", "comments.jsonl:1: no 'text' field"),
    ('{"text": "ok"}\n[1]\n', ".jsonl", "comments.jsonl:2: expected a JSON object, got list"),
    ("{oops\n", ".jsonl", "comments.jsonl:1: not JSON"),
    ("id,text,score,survey_type\n1,ok,11,nps\n", ".csv",
     "INVALID_ARGUMENT from {target}: comments[0].score: 11 is outside 0-10 for nps"),
    ("id,text,survey_type\n1,ok,weekly\n", ".csv", "comments.csv:2: score None or survey_type 'weekly' is not valid"),
    ("text\nok\n", ".txt", "unknown format '.txt'; name it .csv or .jsonl"),
    # The row without an id takes its line number, 3, which the row before claimed.
    ("id,text\n3,first\n,second\n", ".csv", "comments.csv:3: id '3' repeats line 2"),
])
def test_bad_input_is_one_line_and_exit_2(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          content: str, suffix: str, message: str) -> None:
    data = tmp_path / f"comments{suffix}"
    data.write_text(content)
    assert main(["classify", "--data", str(data), "--target", target, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("verbatim: error: ")
    assert message.format(target=target) in err


def test_a_text_longer_than_the_server_allows_is_refused_naming_the_limit(target: str,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "x" * 81, "--target", target]) == 2
    assert "comments[0].text: 81 characters, the limit is 80" in capsys.readouterr().err
