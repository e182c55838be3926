"""The trend chart: share and score of the top tags, bucket by bucket.

Two panels over the same time axis: each top tag's share of the bucket's commented responses, and (when
the summary has scores) its score next to everyone's. A point whose tag has fewer than `min_count`
responses in that bucket is drawn hollow: it is shown, but not to be compared.
"""

from __future__ import annotations

from datetime import date

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from verbatim.analytics.report import Summary, TagSummary, TrendBucket
from verbatim.analytics.render import chart_style as style
from verbatim.analytics.render.labels import metric_name, tag_label
from verbatim.analytics.trend import Granularity

TOP_TAGS = 5
MAX_TICKS = 12
# Colour-blind-safe qualitative colours (Okabe–Ito), one per top tag.
LINE_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000")


def trend_tags(summary: Summary, top: int = TOP_TAGS) -> tuple[TagSummary, ...]:
    """The tags the trend follows: the `top` most frequent of the period."""
    return summary.tags[:top]


def bucket_label(start: date, granularity: Granularity) -> str:
    """A bucket's name on the time axis: "2 Mar", "w/c 2 Mar", "Mar 2026"."""
    if granularity is Granularity.MONTH:
        return start.strftime("%b %Y")
    day = f"{start.day} {start.strftime('%b')}"
    return f"w/c {day}" if granularity is Granularity.WEEK else day


def in_bucket(bucket: TrendBucket, name: str) -> TagSummary | None:
    """Tag `name` within `bucket`, None when the bucket has none of it."""
    try:
        return bucket.summary.tag(name)
    except KeyError:
        return None


def trend_chart(summary: Summary, top: int = TOP_TAGS) -> Figure:
    """Share (and score) of the top tags per trend bucket; one line per tag."""
    tags = trend_tags(summary, top)
    scored = summary.survey_type is not None
    with style.styled():
        fig = Figure(figsize=(style.WIDTH_IN, 6.4 if scored else 3.9), layout="constrained")
        axes = fig.subplots(2 if scored else 1, 1, sharex=True, squeeze=False)[:, 0]
        unit = summary.granularity.value
        axes[0].set_title(f"Top {len(tags)} tags by {unit}: share of commented responses" if tags
                          else "Trend of the top tags")
        if not tags or not summary.trend:
            style.empty(axes[0], "No tagged responses" if not tags else "No trend: no dated responses")
            for ax in axes[1:]:
                style.empty(ax, "")
            return fig
        xs = list(range(len(summary.trend)))
        for colour, tag in zip(LINE_COLOURS, tags):
            points = [in_bucket(b, tag.name) for b in summary.trend]
            _line(axes[0], xs, [p.share if p else None for p in points], points, colour, tag_label(tag))
        axes[0].set_ylabel("% of commented")
        axes[0].set_ylim(bottom=0)
        if scored:
            metric = metric_name(summary.survey_type)
            axes[1].set_title(f"{metric} of the same tags, and of all responses")
            overall = [b.summary.figures.score.value if b.summary.figures.score else None for b in summary.trend]
            axes[1].plot(xs, [float("nan") if v is None else v for v in overall], color=style.INK,
                         linestyle="--", linewidth=1.4, marker="D", markersize=4, label="All responses")
            for colour, tag in zip(LINE_COLOURS, tags):
                points = [in_bucket(b, tag.name) for b in summary.trend]
                _line(axes[1], xs, [p.score.value if p and p.score else None for p in points], points, colour,
                      tag_label(tag))
            axes[1].set_ylabel(metric)
            if metric == "NPS":
                axes[1].axhline(0, color=style.GRID, linewidth=1, zorder=0)
        for ax in axes:
            ax.grid(axis="y", color=style.GRID, linewidth=0.8)
            ax.set_axisbelow(True)
        _time_axis(axes[-1], summary)
        handles, labels = axes[-1].get_legend_handles_labels()
        if not scored:
            handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper")
        style.footnote(fig, f"Hollow markers: fewer than {summary.min_count} responses with the tag in that "
                            f"{unit}. Empty {unit}s leave gaps.")
        return fig


def _line(ax: Axes, xs: list[int], ys: list[float | None], points: list[TagSummary | None], colour: str,
          label: str) -> None:
    values = [float("nan") if y is None else y for y in ys]
    ax.plot(xs, values, color=colour, linewidth=1.8, label=label, marker="o", markersize=5,
            markerfacecolor=colour)
    small = [(x, y) for x, y, p in zip(xs, ys, points) if y is not None and (p is None or p.too_small)]
    if small:
        ax.plot([x for x, _ in small], [y for _, y in small], linestyle="none", marker="o", markersize=5,
                markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.4)


def _time_axis(ax: Axes, summary: Summary) -> None:
    labels = [bucket_label(b.start, summary.granularity) for b in summary.trend]
    step = max(1, -(-len(labels) // MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, labels=[labels[i] for i in ticks], rotation=30 if len(ticks) > 6 else 0,
                  ha="right" if len(ticks) > 6 else "center")
    ax.set_xlim(-0.5, len(labels) - 0.5)
