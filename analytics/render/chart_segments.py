"""The segment heat map: one row per tag, one column per segment, each cell the tag's score there.

Without scores the cells hold the tag's share of the segment's commented responses instead. A cell with
no responses, no score or fewer than `min_count` responses is left blank and hatched: too few to read.
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from verbatim.analytics.report import SegmentSummary, Summary
from verbatim.analytics.render import chart_style as style
from verbatim.analytics.render.labels import count, metric_name, score_text, tag_label


def cell(summary: Summary, segment: SegmentSummary, name: str) -> float | None:
    """The figure a cell shows: tag `name`'s score (or share, without scores) in `segment`; None when
    blank (absent, unscored or too small)."""
    try:
        tag = segment.summary.tag(name)
    except KeyError:
        return None
    if tag.too_small:
        return None
    if summary.survey_type is None:
        return tag.share
    return tag.score.value if tag.score is not None else None


def segment_chart(summary: Summary) -> Figure:
    """Heat map of the tags' scores (or shares) per segment of `summary.segment_by`."""
    tags, segments = summary.tags, summary.segments
    scored = summary.survey_type is not None
    metric = metric_name(summary.survey_type) if scored else "share %"
    with style.styled():
        fig = Figure(figsize=(min(style.WIDTH_IN, 3.6 + 1.25 * max(len(segments), 1)),
                              1.9 + 0.34 * max(len(tags), 2)), layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(f"{metric} of each tag by {summary.segment_by or 'segment'}")
        if not tags or not segments:
            style.empty(ax, "No tagged responses" if not tags else "No segments")
            return fig
        values = np.ma.masked_invalid(np.array(
            [[np.nan if (v := cell(summary, s, t.name)) is None else v for s in segments] for t in tags],
            dtype=float))
        norm: Normalize = (style.score_norm(summary, [float(v) for v in values.compressed()]) if scored
                           else Normalize(0, max(float(values.max()) if values.count() else 1.0, 1.0)))
        cmap = style.colormap() if scored else _share_cmap()
        cmap = cmap.with_extremes(bad=(0, 0, 0, 0))
        for (row, col), blank in np.ndenumerate(np.ma.getmaskarray(values)):
            if blank:
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, facecolor="white", edgecolor=style.NO_DATA,
                                       hatch=style.TOO_SMALL_HATCH, linewidth=0, zorder=0))
        image = ax.imshow(values, cmap=cmap, norm=norm, aspect="auto", zorder=1)
        for (row, col), value in np.ndenumerate(values.filled(np.nan)):
            if np.isnan(value):
                continue
            rgba = cmap(norm(value))
            dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
            text = score_text(float(value), summary.survey_type) if scored else f"{value:.0f}%"
            ax.text(col, row, text, ha="center", va="center", fontsize=8.5, color="white" if dark else style.INK)
        ax.set_xticks(range(len(segments)),
                      labels=[f"{s.name}\nn={count(s.summary.figures.responses)}" for s in segments])
        ax.xaxis.tick_top()
        ax.tick_params(axis="x", length=0, labelcolor=style.INK)
        ax.set_yticks(range(len(tags)), labels=[tag_label(t) for t in tags])
        ax.tick_params(axis="y", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02, aspect=30)
        bar.set_label(f"{metric}" + (f" ({style.centre_label(summary)})" if scored else ""))
        bar.outline.set_visible(False)
        style.footnote(fig, f"Hatched: no responses, no score, or fewer than {summary.min_count} responses "
                            f"with the tag in the segment.")
        return fig


def _share_cmap():
    return matplotlib.colormaps["Blues"]
