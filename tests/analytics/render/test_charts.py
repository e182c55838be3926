"""Each chart draws one bar (or cell, or line) per tag of the input, for every kind of summary.

Expected counts come from the responses the test built (`expected_tags`), not from the summary."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.figure import Figure

from tests.analytics.render.builders import expected_tags, summary
from verbatim.analytics import SurveyType
from verbatim.analytics.render import (bands_chart, charts_for, impact_chart, segment_chart, sentiment_chart,
                                       share_chart, trend_chart)
from verbatim.analytics.render.export import figure_png, figure_svg

TAGS = ("Bug", "Slack", "Price", "Support")
SURVEYS = [SurveyType.NPS, SurveyType.CSAT, SurveyType.CES]


def _bars(fig: Figure) -> int:
    return len(fig.axes[0].containers[0]) if fig.axes[0].containers else 0


@pytest.mark.parametrize("survey", SURVEYS)
@pytest.mark.parametrize("draw", [share_chart, impact_chart, sentiment_chart])
def test_one_bar_per_tag(survey: SurveyType, draw) -> None:
    fig = draw(summary(survey))
    assert _bars(fig) == len(expected_tags(TAGS)) == 5  # Slack brings its parent Integrations


@pytest.mark.parametrize("survey", SURVEYS)
def test_bands_stack_three_bars_per_tag_that_add_up_to_100(survey: SurveyType) -> None:
    fig = bands_chart(summary(survey))
    containers = fig.axes[0].containers
    assert len(containers) == 3
    assert all(len(c) == len(expected_tags(TAGS)) for c in containers)
    totals = [sum(c[i].get_width() for c in containers) for i in range(len(expected_tags(TAGS)))]
    assert totals == pytest.approx([100.0] * len(totals))


def test_impact_puts_the_tag_that_drags_most_at_the_top() -> None:
    # Bug carries the lowest scores of the builder (3 and 7 with Slack), Support the highest:
    s = summary(SurveyType.NPS)
    fig = impact_chart(s)
    widths = [bar.get_width() for bar in fig.axes[0].containers[0]]
    assert widths == sorted(widths)  # top row (index 0) is the most negative
    assert widths[0] < 0 < widths[-1]


@pytest.mark.parametrize("survey", SURVEYS)
def test_metric_is_named_for_the_survey(survey: SurveyType) -> None:
    name = {SurveyType.NPS: "NPS", SurveyType.CSAT: "CSAT %", SurveyType.CES: "CES mean"}[survey]
    fig = share_chart(summary(survey))
    colorbar_axes = fig.axes[1]
    assert name in colorbar_axes.get_ylabel()
    assert name in impact_chart(summary(survey)).axes[0].get_xlabel()


@pytest.mark.parametrize("survey", SURVEYS + [None])
def test_segment_heat_map_has_a_cell_per_tag_and_segment(survey: SurveyType | None) -> None:
    fig = segment_chart(summary(survey))
    assert fig.axes[0].images[0].get_array().shape == (len(expected_tags(TAGS)), 2)  # plans free, pro
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "Integrations › Slack" in labels


@pytest.mark.parametrize("survey", SURVEYS + [None])
def test_trend_has_a_line_per_top_tag_over_every_week(survey: SurveyType | None) -> None:
    fig = trend_chart(summary(survey, weeks=3))
    share_lines = [l for l in fig.axes[0].get_lines() if not l.get_label().startswith("_")]
    assert len(share_lines) == len(expected_tags(TAGS))  # 5 tags, the default top 5
    assert all(len(l.get_xdata()) == 3 for l in share_lines)
    assert len(fig.axes) == (1 if survey is None else 2)


def test_a_single_bucket_draws_points() -> None:
    fig = trend_chart(summary(SurveyType.NPS, weeks=1))
    lines = [l for l in fig.axes[0].get_lines() if not l.get_label().startswith("_")]
    assert lines and all(len(l.get_xdata()) == 1 and l.get_marker() == "o" for l in lines)


@pytest.mark.parametrize("draw", [share_chart, bands_chart, sentiment_chart, impact_chart, trend_chart,
                                  segment_chart])
def test_zero_tags_give_a_figure_without_bars(draw) -> None:
    fig = draw(summary(SurveyType.NPS, tags=()))
    assert _bars(fig) == 0 and not fig.axes[0].images
    assert any("No tagged responses" in t.get_text() for t in fig.axes[0].texts)


def test_too_small_tags_are_hatched() -> None:
    # min_count 1000: every tag is too small
    fig = share_chart(summary(SurveyType.NPS, min_count=1000))
    assert all(bar.get_hatch() for bar in fig.axes[0].containers[0])
    assert "fewer than 1000 responses" in fig.get_supxlabel()
    assert not any(bar.get_hatch() for bar in share_chart(summary(SurveyType.NPS, min_count=1)).axes[0].containers[0])


def test_which_charts_a_summary_gets() -> None:
    names = lambda s: [c.name for c in charts_for(s)]  # noqa: E731
    every = ["impact", "share", "bands", "sentiment", "trend", "segments"]
    assert names(summary(SurveyType.NPS)) == every
    assert names(summary(SurveyType.CSAT, prior=False, segments=False)) == every[:-1]
    assert names(summary(None)) == ["share", "sentiment", "trend", "segments"]
    assert names(summary(SurveyType.NPS, tags=())) == ["share"]


def test_charts_leave_no_global_state() -> None:
    before = dict(matplotlib.rcParams)
    fig = share_chart(summary(SurveyType.NPS))
    assert dict(matplotlib.rcParams) == before
    import matplotlib.pyplot as plt  # only to check that no pyplot figure was opened
    assert plt.get_fignums() == []
    assert figure_png(fig).startswith(b"\x89PNG")


def test_svg_is_deterministic_and_self_contained() -> None:
    first = figure_svg(share_chart(summary(SurveyType.NPS)), "share")
    second = figure_svg(share_chart(summary(SurveyType.NPS)), "share")
    assert first == second
    assert first.startswith("<svg") and "http" not in first and "<metadata" not in first
    assert 'id="chart-share-' in first and 'id="' not in first.replace('id="chart-share-', "")
