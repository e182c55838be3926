"""The look shared by every chart: palette, fonts, figure sizes, score colour scales, footnotes.

Figures are built with `matplotlib.figure.Figure` directly, never through pyplot, and inside
`styled()` (an `rc_context`), so no chart leaks settings or open figures into the next one or into the
caller's matplotlib.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize, TwoSlopeNorm
from matplotlib.figure import Figure

from verbatim.analytics.report import Summary
from verbatim.analytics.scores import SurveyType

NEGATIVE = "#c8553d"   # detractors, negative sentiment, drags the score down
NEUTRAL = "#b8bcc2"    # passives, neutral
POSITIVE = "#2f6fa7"   # promoters, positive sentiment, lifts the score
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
NO_DATA = "#d9dde2"
TOO_SMALL_HATCH = "////"
TOO_SMALL_ALPHA = 0.4
WIDTH_IN = 9.0

_RC = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same glyphs on every machine
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 9.5,
    "axes.labelcolor": INK,
    "axes.edgecolor": "#9aa5b1",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": INK,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9.5,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "hatch.color": "#7b8794",
    "hatch.linewidth": 0.6,
    "svg.fonttype": "path",        # text as outlines: no font needed where the page is opened
}


@contextmanager
def styled() -> Iterator[None]:
    """Build a chart inside this: the house style, restored afterwards."""
    with matplotlib.rc_context(_RC):
        yield


def tag_rows_figure(rows: int, extra_in: float = 1.3) -> Figure:
    """A figure tall enough for `rows` horizontal bars, laid out so long tag names fit."""
    return Figure(figsize=(WIDTH_IN, extra_in + 0.32 * max(rows, 2)), layout="constrained")


def colormap() -> Colormap:
    """The diverging colour scale of scores: red below the centre, blue above."""
    return matplotlib.colormaps["RdYlBu"]


def score_norm(summary: Summary, values: Sequence[float | None]) -> Normalize:
    """Maps a score to a colour: centred on 0 for NPS, on the overall score for CSAT and CES (so the
    colour says better or worse than everyone), symmetric so equal distances look equally strong."""
    overall = summary.overall.score.value if summary.overall.score is not None else None
    if summary.survey_type is SurveyType.NPS or overall is None:
        centre = 0.0
    else:
        centre = overall
    present = [v for v in values if v is not None]
    floor = 0.25 if summary.survey_type is SurveyType.CES else 5.0
    spread = max([abs(v - centre) for v in present] + [floor])
    return TwoSlopeNorm(vcenter=centre, vmin=centre - spread, vmax=centre + spread)


def centre_label(summary: Summary) -> str:
    """How the colour scale is centred, for the colour bar's label."""
    if summary.survey_type is SurveyType.NPS or summary.overall.score is None:
        return "centred on 0"
    return "centred on the overall score"


def footnote(fig: Figure, text: str) -> None:
    """A small grey note under the chart (what hatching means, what was left out)."""
    fig.supxlabel(text, fontsize=8, color=MUTED, x=0.01, ha="left")


def empty(ax: Axes, text: str) -> None:
    """An axes with nothing to draw says so instead of showing bare axes."""
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=10, transform=ax.transAxes)


def tag_axis(ax: Axes, labels: Sequence[str], too_small: Sequence[bool]) -> None:
    """Tag names down the y axis, first at the top; too-small tags' names greyed."""
    ax.set_yticks(range(len(labels)), labels=list(labels))
    for label, small in zip(ax.get_yticklabels(), too_small):
        if small:
            label.set_color(MUTED)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.tick_params(axis="y", length=0)


def value_grid(ax: Axes) -> None:
    """Light vertical grid lines behind horizontal bars."""
    ax.set_axisbelow(True)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
