"""Renders a summary for people: charts (matplotlib), one self-contained HTML page, and JSON.

    meta = ReportMeta(title="Customer feedback", account="Acme", model_version="tagger-2026.03",
                      source="responses.jsonl", period="2026 Q1", prior_period="2025 Q4",
                      generated_at=datetime.now(timezone.utc))
    files = write_report(summary, "out/", meta)   # report.html, chart-<name>.png, summary.json

The pieces are usable alone: `charts_for(summary)` lists the charts a summary gets (each `draw` returns a
matplotlib Figure), `summary_to_dict` / `write_summary_json` give the JSON, `render_page` the HTML.
"""

from verbatim.analytics.render.chart_segments import segment_chart
from verbatim.analytics.render.chart_set import CHARTS, ChartSpec, charts_for
from verbatim.analytics.render.chart_trend import trend_chart
from verbatim.analytics.render.charts import bands_chart, impact_chart, sentiment_chart, share_chart
from verbatim.analytics.render.files import HTML_NAME, JSON_NAME, ReportFiles, chart_file_name, write_report
from verbatim.analytics.render.meta import ReportMeta
from verbatim.analytics.render.page import render_page
from verbatim.analytics.render.summary_json import SCHEMA, summary_json, summary_to_dict, write_summary_json

__all__ = [
    "CHARTS", "ChartSpec", "HTML_NAME", "JSON_NAME", "ReportFiles", "ReportMeta", "SCHEMA", "bands_chart",
    "chart_file_name", "charts_for", "impact_chart", "render_page", "segment_chart", "sentiment_chart",
    "share_chart", "summary_json", "summary_to_dict", "trend_chart", "write_report", "write_summary_json",
]
