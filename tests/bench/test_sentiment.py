"""`verbatim bench sentiment`: the champion vs VADER, on hand-made cases and through the CLI on the tiny model."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from verbatim.bench import sentiment
from verbatim.bench.datasets import restaurants_dataset
from verbatim.bench.sentiment import Source, compare, format_table, model_labels, vader_label, vader_labels
from verbatim.cli import main
from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.models.registry import Registry
from verbatim.training.corpus import Record, general_split, industry_split

pytest.importorskip("vaderSentiment")

LOVE, HATE = "I love it, wonderful", "terrible, awful, I hate it"
TUESDAY, SERVED = "The package arrived on Tuesday.", "The meal was served."  # no sentiment words: compound 0


class FixedPredictor:
    """Fixed sentiment probabilities per text (negative, neutral, positive), like Predictor.scores."""

    version = "fixed"

    def __init__(self, rows: dict[str, Sequence[float]]) -> None:
        self.rows = rows
        self.calls: list[list[str]] = []

    def scores(self, texts: Sequence[str]) -> SimpleNamespace:
        self.calls.append(list(texts))
        return SimpleNamespace(sentiment=np.array([self.rows[t] for t in texts], dtype=np.float32))


def test_vader_thresholds_are_the_documented_ones() -> None:
    assert vader_label(0.05) == "positive" and vader_label(0.0499) == "neutral"
    assert vader_label(-0.05) == "negative" and vader_label(-0.0499) == "neutral"
    assert vader_label(0.0) == "neutral" and vader_label(1.0) == "positive" and vader_label(-1.0) == "negative"


def test_vader_reads_obvious_texts() -> None:
    assert vader_labels([LOVE, HATE, TUESDAY]) == ["positive", "negative", "neutral"]


def test_model_labels_are_the_argmax_in_order_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sentiment, "CHUNK", 3)
    rows = {"a": (0.7, 0.2, 0.1), "b": (0.1, 0.8, 0.1), "c": (0.2, 0.3, 0.5), "d": (0.6, 0.3, 0.1)}
    predictor = FixedPredictor(rows)
    assert model_labels(predictor, ["a", "b", "c", "d"]) == ["negative", "neutral", "positive", "negative"]
    assert predictor.calls == [["a", "b", "c"], ["d"]]


def test_report_on_a_hand_made_case() -> None:
    # gold: positive, negative, neutral, positive
    # model: positive, negative, positive, positive -> 3/4 right;
    #   F1 positive 0.8 (P 2/3, R 1), negative 1, neutral 0 -> macro 0.6
    # VADER: positive, negative, neutral, neutral -> 3/4 right;
    #   F1 positive 2/3 (P 1, R 1/2), negative 1, neutral 2/3 (P 1/2, R 1) -> macro 7/9
    predictor = FixedPredictor({LOVE: (0.1, 0.1, 0.8), HATE: (0.8, 0.1, 0.1), TUESDAY: (0.2, 0.3, 0.5),
                                SERVED: (0.0, 0.4, 0.6)})
    source = Source("hand", [LOVE, HATE, TUESDAY, SERVED], ["positive", "negative", "neutral", "positive"], left_out=2)
    report = compare(predictor, [source])
    assert report["model_version"] == "fixed"
    (row,) = report["sources"]
    assert (row["source"], row["n"], row["left_out"]) == ("hand", 4, 2)
    assert (row["model"]["accuracy"], row["model"]["macro_f1"]) == (0.75, 0.6)
    assert (row["vader"]["accuracy"], row["vader"]["macro_f1"]) == (0.75, 0.7778)
    assert row["accuracy_difference"] == 0.0 and row["macro_f1_difference"] == -0.1778
    assert row["vader"]["confusion"]["positive"] == {"negative": 0, "neutral": 1, "positive": 1}
    table = format_table(report)
    assert "hand" in table and "0.750" in table and "0.778" in table and "+0.000" in table


def test_sources_leave_out_comments_without_a_sentiment() -> None:
    records = [Record(id=str(i), text=t, tags=frozenset(), sentiment=s, account="a")
               for i, (t, s) in enumerate([("x", "positive"), ("y", None), ("z", "neutral")])]
    source = Source.from_records("s", records)
    assert (source.texts, source.gold, source.left_out) == (["x", "z"], ["positive", "neutral"], 1)


def semeval_file(folder: Path) -> Path:
    """Thirty sentences: 2 in 5 have no sentiment (`conflict`, mixed), so some test ones are left out."""
    polarities = ["positive", "negative", "neutral", "conflict", "mixed"] * 6
    sentences = []
    for i, polarity in enumerate(polarities):
        if polarity == "mixed":
            categories = ('<aspectCategory category="food" polarity="positive"/>'
                          '<aspectCategory category="service" polarity="negative"/>')
        else:
            categories = f'<aspectCategory category="food" polarity="{polarity}"/>'
        sentences.append(f'<sentence id="{i}"><text>Sentence number {i} about the food.</text>'
                         f"<aspectCategories>{categories}</aspectCategories></sentence>")
    path = folder / "semeval14_restaurants_train.xml"
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<sentences>{"".join(sentences)}</sentences>\n')
    return path


def test_cli_measures_every_source(tiny_registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = semeval_file(tmp_path)
    args = ["bench", "sentiment", "--registry", str(tiny_registry.root), "--data-dir", str(tmp_path), "--device", "cpu"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)  # the progress bars go to stderr
    assert report["model_version"] == tiny_registry.champion()
    rows = {row["source"]: row for row in report["sources"]}
    assert list(rows) == ["semeval14_restaurants", *INDUSTRY_TAXONOMIES, "general", "emoji"]
    test = restaurants_dataset(path).test
    assert rows["semeval14_restaurants"]["n"] == sum(r.sentiment is not None for r in test) > 0
    assert rows["semeval14_restaurants"]["left_out"] == sum(r.sentiment is None for r in test) > 0
    for industry in INDUSTRY_TAXONOMIES:
        assert rows[industry]["n"] == sum(r.sentiment is not None for r in industry_split(industry, "test")) > 0
    assert rows["general"]["n"] == len(general_split("test")) > 0
    assert rows["emoji"]["n"] == 150
    for row in rows.values():
        for side in ("model", "vader"):
            assert row[side]["count"] == row["n"] and 0 <= row[side]["accuracy"] <= 1
        assert row["accuracy_difference"] == round(row["model"]["accuracy"] - row["vader"]["accuracy"], 4)

    assert main(args) == 0
    table = capsys.readouterr().out
    assert "VADER acc" in table and all(name in table for name in rows)


def test_cli_fails_in_one_line_without_a_champion_or_data(tiny_registry: Registry, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture) -> None:
    assert main(["bench", "sentiment", "--registry", str(tmp_path / "empty"), "--data-dir", str(tmp_path)]) == 2
    assert "no champion" in capsys.readouterr().err
    assert main(["bench", "sentiment", "--registry", str(tiny_registry.root), "--data-dir",
                 str(tmp_path / "absent")]) == 2
    assert "semeval14_restaurants_train.xml" in capsys.readouterr().err
