"""write_report: exactly the expected files, a self-contained page, and customer text escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.analytics.factories import MONDAY, response
from tests.analytics.render.builders import meta, summary
from verbatim.analytics import SummaryOptions, SurveyType, summarize_responses
from verbatim.analytics.render import write_report

EVERY_CHART = ["impact", "share", "bands", "sentiment", "trend", "segments"]


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_writes_exactly_the_report_files(tmp_path: Path) -> None:
    files = write_report(summary(SurveyType.NPS), tmp_path / "out", meta())
    expected = {"report.html", "summary.json"} | {f"chart-{n}.png" for n in EVERY_CHART}
    assert _names(tmp_path / "out") == expected
    assert {p.name for p in files.all} == expected
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in files.charts)
    assert json.loads(files.summary_json.read_text())["summary"]["survey_type"] == "nps"
    html = files.html.read_text(encoding="utf-8")
    assert html.count("<svg") == len(EVERY_CHART)


def test_rewriting_with_fewer_charts_removes_the_stale_ones(tmp_path: Path) -> None:
    write_report(summary(SurveyType.NPS), tmp_path, meta())
    write_report(summary(None, prior=False, segments=False), tmp_path, meta(prior=False))
    assert _names(tmp_path) == {"report.html", "summary.json", "chart-share.png", "chart-sentiment.png",
                                "chart-trend.png"}


def test_page_references_nothing_external(tmp_path: Path) -> None:
    html = write_report(summary(SurveyType.CSAT), tmp_path, meta()).html.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    # in-page references (#id) and inline images (data:) only
    assert not re.search(r"""\b(?:src|href)\s*=\s*(?!["']?(?:#|data:image/))""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html.replace("url(#chart-", "")


def test_customer_text_is_escaped(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    responses = [response(score, evil, time=MONDAY, plan=evil) for score in (3, 9, 10)]
    s = summarize_responses(responses, None, segment_by="plan", options=SummaryOptions(min_count=1, min_segment_size=1))
    html = write_report(s, tmp_path, meta(account=evil)).html.read_text(encoding="utf-8")
    assert evil not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_headline_score_and_change_are_on_the_page(tmp_path: Path) -> None:
    # Current period, per the builder: NPS from scores 10, 9, 7, 3 over tags and untagged responses.
    s = summary(SurveyType.NPS)
    html = write_report(s, tmp_path, meta()).html.read_text(encoding="utf-8")
    assert "vs February" in html
    assert "What drags the NPS down most" in html and "What changed since February" in html
    assert "Integrations › Slack" in html


def test_no_prior_no_scores_no_tags(tmp_path: Path) -> None:
    html = write_report(summary(None, prior=False, segments=False, tags=()), tmp_path,
                        meta(prior=False)).html.read_text(encoding="utf-8")
    assert html.count("<svg") == 1  # the share chart, saying there are no tags
    assert "What changed" not in html and "Impact" not in html
