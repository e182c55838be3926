"""report.html in a real browser (Debian's headless chromium driven by playwright): it loads nothing but
itself, logs no error, and shows every chart at a visible size.

Skipped when chromium is missing, except on CI (CI=true) where that is a failure: `.ci/chromium.sh`
installs it. Playwright only drives the system browser; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

from tests.analytics.render.browser import visit
from tests.analytics.render.builders import meta, summary
from verbatim.analytics import SurveyType
from verbatim.analytics.render import write_report

EVERY_CHART = ["impact", "share", "bands", "sentiment", "trend", "segments"]


def test_report_page_in_chromium(tmp_path: Path) -> None:
    report = write_report(summary(SurveyType.NPS), tmp_path / "report", meta()).html
    shown = visit(report, EVERY_CHART, tmp_path / "report.png")
    assert shown.charts == len(EVERY_CHART)
    assert shown.title == "Feedback"
    assert shown.requests and all(r == shown.url for r in shown.requests), shown.requests
    assert shown.problems == []
    for name, box in shown.boxes.items():
        assert box is not None and box["width"] > 100 and box["height"] > 100, (name, box)
    assert (tmp_path / "report.png").stat().st_size > 10_000
