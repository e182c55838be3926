"""The per-tag bar charts: share (coloured by score), score bands, net sentiment, impact.

Each function takes a `Summary` and returns a new matplotlib `Figure` whose first axes holds one bar per
tag (`fig.axes[0].containers[0]`), most frequent first (impact: most negative first). A tag flagged
`too_small` is drawn faded and hatched, with a footnote. With no tags the figure says so.
"""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from verbatim.analytics.report import Summary, TagSummary
from verbatim.analytics.render import chart_style as style
from verbatim.analytics.render.labels import (band_names, metric_name, pct, score_text, signed, tag_label,
                                              too_small_note, unit_name)


def share_chart(summary: Summary) -> Figure:
    """Share of commented responses per tag; each bar coloured by the tag's score (no scores: one colour)."""
    tags = summary.tags
    with style.styled():
        fig = style.tag_rows_figure(len(tags))
        ax = fig.add_subplot()
        metric = metric_name(summary.survey_type)
        ax.set_title("Tags by share of commented responses" +
                     (f", coloured by {metric}" if summary.survey_type else ""))
        if not tags:
            style.empty(ax, "No tagged responses")
            return fig
        scores = [_score(t) for t in tags]
        norm = style.score_norm(summary, scores)
        cmap = style.colormap()
        colours = [style.NO_DATA if s is None or summary.survey_type is None else cmap(norm(s)) for s in scores]
        bars = ax.barh(range(len(tags)), [t.share or 0.0 for t in tags], color=colours,
                       edgecolor="#52606d", linewidth=0.5)
        _mark_too_small(bars, tags)
        for i, tag in enumerate(tags):
            text = pct(tag.share)
            if summary.survey_type is not None:
                text += f"  ·  {metric} {score_text(_score(tag), summary.survey_type)}"
            ax.annotate(text, (tag.share or 0.0, i), xytext=(4, 0), textcoords="offset points",
                        va="center", fontsize=8.5, color=style.INK)
        _tags_and_grid(ax, tags)
        ax.set_xlim(0, max(t.share or 0.0 for t in tags) * 1.3 + 1)
        ax.set_xlabel("% of commented responses that carry the tag")
        if summary.survey_type is not None:
            bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8, pad=0.01, aspect=30)
            bar.set_label(f"{metric} of the tag's responses ({style.centre_label(summary)})")
            bar.outline.set_visible(False)
        _note_too_small(fig, summary)
        return fig


def bands_chart(summary: Summary) -> Figure:
    """Detractors, passives and promoters (or the CSAT/CES bands) per tag, as stacked percentages."""
    tags = summary.tags
    with style.styled():
        fig = style.tag_rows_figure(len(tags), extra_in=1.6)
        ax = fig.add_subplot()
        if summary.survey_type is None:
            ax.set_title("Score bands per tag")
            style.empty(ax, "No scores: the responses answer no survey")
            return fig
        names = band_names(summary.survey_type)
        ax.set_title(f"{names[0].split(' (')[0]}, {names[1].split(' (')[0].lower()} and "
                     f"{names[2].split(' (')[0].lower()} per tag")
        if not tags:
            style.empty(ax, "No tagged responses")
            return fig
        rows = range(len(tags))
        left = [0.0] * len(tags)
        for band, (name, colour) in enumerate(zip(names, (style.NEGATIVE, style.NEUTRAL, style.POSITIVE))):
            widths = [_band_pct(t, band) for t in tags]
            bars = ax.barh(rows, widths, left=left, color=colour, label=name, edgecolor="white", linewidth=0.6)
            _mark_too_small(bars, tags)
            for i, width in enumerate(widths):
                if width >= 7:
                    ax.text(left[i] + width / 2, i, f"{width:.0f}%", ha="center", va="center", fontsize=8,
                            color="white" if band != 1 else style.INK)
            left = [a + b for a, b in zip(left, widths)]
        for i, tag in enumerate(tags):
            scored = tag.score.scored if tag.score is not None else 0
            text = (f"{metric_name(summary.survey_type)} {score_text(_score(tag), summary.survey_type)}"
                    if scored else "no scores")
            ax.text(101.5, i, text, va="center", fontsize=8.5, color=style.INK if scored else style.MUTED)
        _tags_and_grid(ax, tags)
        ax.set_xlim(0, 118)
        ax.set_xticks(range(0, 101, 25), labels=[f"{v}%" for v in range(0, 101, 25)])
        ax.set_xlabel("% of the tag's scored responses")
        fig.legend(loc="outside lower center", ncol=3)
        _note_too_small(fig, summary)
        return fig


def sentiment_chart(summary: Summary) -> Figure:
    """Net sentiment per tag (% positive − % negative comments), diverging around 0."""
    tags = summary.tags
    with style.styled():
        fig = style.tag_rows_figure(len(tags))
        ax = fig.add_subplot()
        ax.set_title("Net sentiment per tag (% positive − % negative comments)")
        if not tags:
            style.empty(ax, "No tagged responses")
            return fig
        nets = [t.sentiment.net for t in tags]
        _diverging(ax, tags, nets, lambda v: signed(v, 0), "no sentiment")
        ax.set_xlabel("Net sentiment, −100 (all negative) to +100 (all positive)")
        _note_too_small(fig, summary)
        return fig


def impact_chart(summary: Summary) -> Figure:
    """Impact of each tag on the overall score, the tag that drags it down most at the top."""
    tags = summary.by_impact
    with style.styled():
        fig = style.tag_rows_figure(len(tags), extra_in=1.6)
        ax = fig.add_subplot()
        metric = metric_name(summary.survey_type)
        ax.set_title(f"Impact on the overall {metric}: what drags it down, what lifts it")
        if summary.survey_type is None:
            style.empty(ax, "No scores: the responses answer no survey")
            return fig
        if not tags:
            style.empty(ax, "No tagged responses")
            return fig
        digits = 2 if metric == "CES mean" else 1
        _diverging(ax, tags, [t.impact for t in tags], lambda v: signed(v, digits), "n/a")
        ax.set_xlabel(f"{unit_name(summary.survey_type)}: overall {metric} minus the {metric} without the "
                      f"tag's responses\n◀ drags the score down          lifts the score up ▶")
        _note_too_small(fig, summary)
        return fig


def _diverging(ax: Axes, tags: tuple[TagSummary, ...], values: list[float | None],
               fmt: Callable[[float], str], missing: str) -> None:
    present = [abs(v) for v in values if v is not None]
    reach = max(present + [1e-9]) * 1.35 or 1.0
    colours = [style.NO_DATA if v is None else (style.NEGATIVE if v < 0 else style.POSITIVE) for v in values]
    bars = ax.barh(range(len(tags)), [v or 0.0 for v in values], color=colours)
    _mark_too_small(bars, tags)
    for i, value in enumerate(values):
        if value is None:
            ax.text(0, i, f" {missing}", va="center", fontsize=8, color=style.MUTED)
            continue
        ax.annotate(fmt(value), (value, i), xytext=(4 if value >= 0 else -4, 0), textcoords="offset points",
                    ha="left" if value >= 0 else "right", va="center", fontsize=8.5, color=style.INK)
    ax.axvline(0, color=style.INK, linewidth=0.8)
    ax.set_xlim(-reach, reach)
    _tags_and_grid(ax, tags)


def _tags_and_grid(ax: Axes, tags: tuple[TagSummary, ...]) -> None:
    style.tag_axis(ax, [tag_label(t) for t in tags], [t.too_small for t in tags])
    style.value_grid(ax)


def _mark_too_small(bars: BarContainer, tags: tuple[TagSummary, ...]) -> None:
    for bar, tag in zip(bars, tags):
        if tag.too_small:
            bar.set_alpha(style.TOO_SMALL_ALPHA)
            bar.set_hatch(style.TOO_SMALL_HATCH)


def _note_too_small(fig: Figure, summary: Summary) -> None:
    if any(t.too_small for t in summary.tags):
        style.footnote(fig, f"Faded, hatched bars and grey names: {too_small_note(summary)}.")


def _score(tag: TagSummary) -> float | None:
    return tag.score.value if tag.score is not None else None


def _band_pct(tag: TagSummary, band: int) -> float:
    if tag.score is None:
        return 0.0
    value = (tag.score.detractors_pct, tag.score.passives_pct, tag.score.promoters_pct)[band]
    return value or 0.0
