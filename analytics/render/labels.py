"""How figures read to people: metric names, band names, tag names and number formats.

Charts, tables and the page all word things through here, so "NPS", "CSAT %" and "CES mean" and the
sign of a change read the same everywhere.
"""

from __future__ import annotations

from verbatim.analytics.report import Summary, TagSummary
from verbatim.analytics.scores import SurveyType

_METRIC = {SurveyType.NPS: "NPS", SurveyType.CSAT: "CSAT %", SurveyType.CES: "CES mean"}
# What one unit of a score difference is called.
_UNIT = {SurveyType.NPS: "NPS points", SurveyType.CSAT: "CSAT points", SurveyType.CES: "CES mean points"}
_BANDS = {
    SurveyType.NPS: ("Detractors", "Passives", "Promoters"),
    SurveyType.CSAT: ("Unsatisfied", "Neutral", "Satisfied"),
    SurveyType.CES: ("High effort", "Neutral", "Low effort"),
}
# 100 points of NPS or CSAT span the scale as 6 points of a CES mean (1–7) do: used to compare moves.
_POINTS_PER_UNIT = {SurveyType.NPS: 1.0, SurveyType.CSAT: 1.0, SurveyType.CES: 100.0 / 6.0}


def metric_name(survey_type: SurveyType | None) -> str:
    """The headline metric's name: "NPS", "CSAT %", "CES mean" (or "Score" without a survey type)."""
    return _METRIC[survey_type] if survey_type is not None else "Score"


def unit_name(survey_type: SurveyType | None) -> str:
    """What a difference of the metric is measured in ("NPS points", …)."""
    return _UNIT[survey_type] if survey_type is not None else "points"


def points_per_unit(survey_type: SurveyType | None) -> float:
    """A factor putting a score difference on a 0–100 scale (CES means span 6 units)."""
    return _POINTS_PER_UNIT[survey_type] if survey_type is not None else 1.0


def band_names(survey_type: SurveyType) -> tuple[str, str, str]:
    """Names of the bottom, middle and top bands, each with its score range: "Detractors (0–6)"."""
    low, high = survey_type.scale
    names = []
    for band, name in enumerate(_BANDS[survey_type]):
        values = [v for v in range(low, high + 1) if survey_type.band(v) == band]
        span = str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
        names.append(f"{name} ({span})")
    return names[0], names[1], names[2]


def tag_label(tag: TagSummary) -> str:
    """A tag as people read it: a child shows its parent, "Integrations › Slack"."""
    return f"{tag.parent} › {tag.name}" if tag.parent else tag.name


def score_text(value: float | None, survey_type: SurveyType | None) -> str:
    """A score as shown: NPS signed whole points ("+12", "−5"), CSAT "78%", CES "5.42"; "–" when None."""
    if value is None or survey_type is None:
        return "–"
    if survey_type is SurveyType.NPS:
        return signed(value, 0)
    if survey_type is SurveyType.CSAT:
        return f"{value:.0f}%"
    return f"{value:.2f}"


def change_text(value: float | None, survey_type: SurveyType | None) -> str:
    """A score change, always signed: "+4", "−1.5" (CES to two decimals); "–" when None."""
    if value is None:
        return "–"
    return signed(value, 2 if survey_type is SurveyType.CES else 1)


def signed(value: float, digits: int = 1) -> str:
    """`value` with an explicit sign and a true minus sign: "+3.2", "−0.5", "0"."""
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0:
        return text
    return ("+" if value > 0 else "−") + text


def pct(value: float | None, digits: int = 0) -> str:
    """A percentage, "23%"; "–" when None."""
    return "–" if value is None else f"{value:.{digits}f}%"


def count(value: int) -> str:
    """A count with thousands separators."""
    return f"{value:,}"


def too_small_note(summary: Summary) -> str:
    """The footnote for tags flagged `too_small`."""
    return f"fewer than {summary.min_count} responses: shown, but not to be compared"
