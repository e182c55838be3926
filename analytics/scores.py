"""Survey scores and the metric of each survey type: NPS, CSAT and CES.

Every metric is computed from a histogram of whole-number scores, so partial results add up exactly
(see `accumulator.py`). Each survey type splits its scale into three bands; for NPS they are the usual
detractors (0–6), passives (7–8) and promoters (9–10). CSAT and CES use the same three names for their
bottom, middle and top bands:

=========  =======  ==========  =========  ==========  =====================================
survey     scale    detractors  passives   promoters   headline metric (`ScoreMetrics.value`)
=========  =======  ==========  =========  ==========  =====================================
NPS        0–10     0–6         7–8        9–10        % promoters − % detractors, −100…100
CSAT       1–5      1–2         3          4–5         % of 4–5 (= % promoters), 0…100
CES        1–7      1–3         4          5–7         mean score, 1…7 (% of 5–7 = % promoters)
=========  =======  ==========  =========  ==========  =====================================

For all three a higher score is better (CES here is the 7-point agreement scale, "the company made it
easy for me", where 5–7 means low effort).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from verbatim.analytics.errors import InvalidInput, parse_choice


class SurveyType(str, Enum):
    """The survey a score answers; the value is the wire name."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"

    @classmethod
    def parse(cls, name: "str | SurveyType", field: str = "survey_type") -> "SurveyType":
        """The survey type named `name` (case-insensitive); `InvalidInput` on `field` when unknown."""
        return parse_choice(cls, name, field, "survey type")

    @property
    def scale(self) -> tuple[int, int]:
        """The lowest and highest score, both included."""
        return _SCALES[self]

    @property
    def size(self) -> int:
        """How many distinct scores the scale has (the length of its histogram)."""
        low, high = self.scale
        return high - low + 1

    def band(self, value: int) -> int:
        """0 for a detractor, 1 for a passive, 2 for a promoter."""
        detractor_max, promoter_min = _BANDS[self]
        return 0 if value <= detractor_max else (2 if value >= promoter_min else 1)


_SCALES = {SurveyType.NPS: (0, 10), SurveyType.CSAT: (1, 5), SurveyType.CES: (1, 7)}
# (highest detractor score, lowest promoter score)
_BANDS = {SurveyType.NPS: (6, 9), SurveyType.CSAT: (2, 4), SurveyType.CES: (3, 5)}


@dataclass(frozen=True)
class Score:
    """One survey answer: a whole number on the scale of its survey type."""

    value: int
    survey_type: SurveyType

    def __post_init__(self) -> None:
        survey_type = SurveyType.parse(self.survey_type, field="survey_type")
        object.__setattr__(self, "survey_type", survey_type)
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise InvalidInput("score", f"must be a whole number, got {self.value!r}")
        low, high = survey_type.scale
        if not low <= self.value <= high:
            raise InvalidInput("score", f"{self.value} is out of range for {survey_type.value.upper()}: "
                                        f"expected {low} to {high}")

    @property
    def band(self) -> int:
        """0 detractor, 1 passive, 2 promoter (see the module docstring for CSAT and CES)."""
        return self.survey_type.band(self.value)


@dataclass(frozen=True)
class ScoreMetrics:
    """The score figures of a group of responses of one survey type.

    `value` is the headline metric of the survey type (NPS, CSAT % or CES mean) and None when the group
    has no scored response; percentages are of `scored`, from 0 to 100.
    """

    survey_type: SurveyType
    scored: int
    value: float | None
    mean: float | None
    detractors: int
    passives: int
    promoters: int
    detractors_pct: float | None
    passives_pct: float | None
    promoters_pct: float | None

    @classmethod
    def from_histogram(cls, survey_type: SurveyType, counts: Sequence[int]) -> "ScoreMetrics":
        """The metrics of `counts`, where ``counts[i]`` responses scored ``scale[0] + i``."""
        if len(counts) != survey_type.size:
            raise ValueError(f"a {survey_type.value} histogram has {survey_type.size} bins, got {len(counts)}")
        low = survey_type.scale[0]
        bands = [0, 0, 0]
        total = 0
        weighted = 0
        for offset, count in enumerate(counts):
            if count < 0:
                raise ValueError("a histogram count cannot be negative")
            bands[survey_type.band(low + offset)] += count
            total += count
            weighted += (low + offset) * count
        if total == 0:
            return cls(survey_type, 0, None, None, bands[0], bands[1], bands[2], None, None, None)
        pct = [100.0 * b / total for b in bands]
        mean = weighted / total
        if survey_type is SurveyType.NPS:
            value = 100.0 * (bands[2] - bands[0]) / total  # one division: no rounding gap between the two shares
        elif survey_type is SurveyType.CSAT:
            value = pct[2]
        else:
            value = mean
        return cls(survey_type, total, value, mean, bands[0], bands[1], bands[2], pct[0], pct[1], pct[2])


def histogram(survey_type: SurveyType, values: Iterable[int]) -> list[int]:
    """The histogram of `values`, each validated against the scale of `survey_type`."""
    counts = [0] * survey_type.size
    low = survey_type.scale[0]
    for value in values:
        counts[Score(value, survey_type).value - low] += 1
    return counts


def nps(values: Iterable[int]) -> float | None:
    """Net Promoter Score of 0–10 answers: % promoters (9–10) − % detractors (0–6); None if empty."""
    return ScoreMetrics.from_histogram(SurveyType.NPS, histogram(SurveyType.NPS, values)).value


def csat(values: Iterable[int]) -> float | None:
    """Customer satisfaction of 1–5 answers: % of 4–5; None if empty."""
    return ScoreMetrics.from_histogram(SurveyType.CSAT, histogram(SurveyType.CSAT, values)).value


def ces(values: Iterable[int]) -> tuple[float, float] | None:
    """Customer effort of 1–7 answers: (mean score, % of 5–7); None if empty."""
    metrics = ScoreMetrics.from_histogram(SurveyType.CES, histogram(SurveyType.CES, values))
    if metrics.value is None or metrics.promoters_pct is None:
        return None
    return metrics.value, metrics.promoters_pct
