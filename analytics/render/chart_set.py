"""Which charts a summary gets, in page order: `charts_for(summary)`.

A chart that would have nothing to say is left out rather than drawn empty: the score charts without a
survey type, the trend without dated buckets, the heat map without a segment property, all of them but
the share chart when there are no tags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from verbatim.analytics.report import Summary
from verbatim.analytics.render.chart_segments import segment_chart
from verbatim.analytics.render.chart_trend import trend_chart
from verbatim.analytics.render.charts import bands_chart, impact_chart, sentiment_chart, share_chart


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the report: `name` (its file is ``chart-<name>.png``), the function that draws it, and
    whether a summary has anything for it to show."""

    name: str
    draw: Callable[[Summary], Figure]
    applies: Callable[[Summary], bool]


def _scored(summary: Summary) -> bool:
    return summary.survey_type is not None and bool(summary.tags)


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("impact", impact_chart, _scored),
    ChartSpec("share", share_chart, lambda s: True),
    ChartSpec("bands", bands_chart, _scored),
    ChartSpec("sentiment", sentiment_chart,
              lambda s: any(t.sentiment.net is not None for t in s.tags)),
    ChartSpec("trend", trend_chart, lambda s: bool(s.tags) and bool(s.trend)),
    ChartSpec("segments", segment_chart, lambda s: s.segment_by is not None and bool(s.segments) and bool(s.tags)),
)
"""Every chart, in the order the page shows them."""


def charts_for(summary: Summary) -> tuple[ChartSpec, ...]:
    """The charts `summary` gets, in page order."""
    return tuple(spec for spec in CHARTS if spec.applies(summary))
