"""summary.json: valid JSON, no NaN, and facts that match a small example counted by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.analytics.factories import MONDAY, TAXONOMY, response
from tests.analytics.render.builders import meta
from verbatim.analytics import SummaryOptions, summarize_responses
from verbatim.analytics.render import SCHEMA, summary_json, write_summary_json

# Four NPS responses, all commented: 10 Bug, 9 Price, 3 Bug, 7 untagged.
# NPS = (2 promoters − 1 detractor) / 4 = +25. Bug: 2 of 4 commented = 50 %, its NPS (1 − 1) / 2 = 0.
# Without Bug's responses (9, 7): NPS 50, so Bug's impact = 25 − 50 = −25.
RESPONSES = [response(10, "Bug"), response(9, "Price"), response(3, "Bug"), response(7)]


def _document() -> dict:
    summary = summarize_responses(RESPONSES, TAXONOMY, options=SummaryOptions(min_count=1))
    return json.loads(summary_json(summary, meta(prior=False)))


def _tag(document: dict, name: str) -> dict:
    return next(t for t in document["summary"]["current"]["tags"] if t["name"] == name)


def test_figures_match_the_hand_counted_example() -> None:
    document = _document()
    overall = document["summary"]["current"]["figures"]
    assert overall["responses"] == 4 and overall["commented"] == 4
    assert overall["score"]["value"] == 25.0
    bug = _tag(document, "Bug")
    assert bug["count"] == 2 and bug["share"] == 50.0
    assert bug["score"]["value"] == 0.0 and bug["impact"] == -25.0
    assert _tag(document, "Price")["share"] == 25.0


def test_enums_dates_nulls_and_meta() -> None:
    document = _document()
    assert document["schema"] == SCHEMA
    summary = document["summary"]
    assert summary["survey_type"] == "nps" and summary["granularity"] == "week"
    assert summary["prior"] is None and summary["score_change"] is None and summary["segment_by"] is None
    assert summary["trend"][0]["start"] == MONDAY.date().isoformat()
    assert document["meta"]["generated_at"] == "2026-04-01T09:00:00+00:00"
    assert document["meta"]["prior_period"] is None
    assert list(summary)[:3] == ["survey_type", "min_count", "current"]  # field order, stable


def _floats(value: object) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return []


def test_written_file_is_strict_json(tmp_path: Path) -> None:
    summary = summarize_responses(RESPONSES, TAXONOMY, options=SummaryOptions(min_count=1))
    path = write_summary_json(summary, tmp_path / "summary.json", meta())
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    document = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert all(math.isfinite(f) for f in _floats(document))
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left behind
