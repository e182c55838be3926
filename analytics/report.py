"""The summary's types: what the Tags tab shows. Plain frozen dataclasses, built by `summarize`.

Percentages run from 0 to 100; a figure that cannot be computed (no scored response, no sentiment, no
prior period) is None rather than 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from verbatim.analytics.scores import ScoreMetrics, SurveyType
from verbatim.analytics.trend import Granularity


@dataclass(frozen=True)
class SentimentMetrics:
    """Sentiment of a group's comments: mean score (−1…1), the label split and net sentiment
    (% positive − % negative, −100…100), all over the `classified` responses that carry a sentiment."""

    classified: int
    mean: float | None
    negative: int
    neutral: int
    positive: int
    negative_pct: float | None
    neutral_pct: float | None
    positive_pct: float | None
    net: float | None


@dataclass(frozen=True)
class GroupFigures:
    """A group of responses as a whole: how many, how many with a comment, their score and sentiment.
    `score` is None when the summary has no survey type (no response was scored)."""

    responses: int
    commented: int
    score: ScoreMetrics | None
    sentiment: SentimentMetrics


@dataclass(frozen=True)
class TagChange:
    """A tag against the prior period: `share_points` is the change of its share in percentage points;
    `score_change` the change of its score metric (NPS points, CSAT points, CES mean)."""

    prior_count: int
    prior_share: float | None
    share_points: float | None
    prior_score: float | None
    score_change: float | None


@dataclass(frozen=True)
class TagSummary:
    """One tag within a group of responses (a child's responses count toward its parent).

    - `share`: % of the group's commented responses that carry the tag;
    - `impact`: the group's score minus the score it would have without this tag's responses, in units
      of the metric. Negative: the tag pulls the score down (removing its responses would raise it).
      Tags that drag the score down therefore sort first in ascending order (`Summary.by_impact`).
    - `too_small`: fewer responses than `min_count`: reported, but not to be compared.
    - `change`: against the prior period; None when there is none (or inside trends and segments).
    """

    name: str
    parent: str | None
    count: int
    share: float | None
    score: ScoreMetrics | None
    sentiment: SentimentMetrics
    impact: float | None
    too_small: bool
    change: TagChange | None = None


@dataclass(frozen=True)
class GroupSummary:
    """A group (everything, a trend bucket, a segment): its figures and its tags, most frequent first."""

    figures: GroupFigures
    tags: tuple[TagSummary, ...]

    def tag(self, name: str) -> TagSummary:
        """The summary of tag `name`; KeyError when the group has none."""
        for tag in self.tags:
            if tag.name == name:
                return tag
        raise KeyError(name)


@dataclass(frozen=True)
class TopTag:
    """A tag among one band of respondents: `count` respondents of the band mention it, `share` % of the
    band's commented respondents."""

    name: str
    count: int
    share: float


@dataclass(frozen=True)
class TrendBucket:
    """One bucket of the trend: the days `start` to `end` (exclusive)."""

    start: date
    end: date
    summary: GroupSummary


@dataclass(frozen=True)
class SegmentSummary:
    """One segment: `name` is the property value (or "other", holding `values`)."""

    name: str
    values: tuple[str, ...]
    summary: GroupSummary


@dataclass(frozen=True)
class Summary:
    """The Tags tab for one period, optionally compared with a prior one."""

    survey_type: SurveyType | None
    min_count: int
    current: GroupSummary
    prior: GroupFigures | None
    score_change: float | None
    top_detractor_tags: tuple[TopTag, ...]
    top_promoter_tags: tuple[TopTag, ...]
    granularity: Granularity
    trend: tuple[TrendBucket, ...]
    segment_by: str | None
    segments: tuple[SegmentSummary, ...]

    @property
    def overall(self) -> GroupFigures:
        """The current period's figures as a whole."""
        return self.current.figures

    @property
    def tags(self) -> tuple[TagSummary, ...]:
        """The current period's tags, most frequent first."""
        return self.current.tags

    @property
    def by_impact(self) -> tuple[TagSummary, ...]:
        """Tags from the one that drags the score down most to the one that lifts it most; tags without
        an impact (no scored response) last."""
        return tuple(sorted(self.current.tags, key=lambda t: (t.impact is None, t.impact or 0.0, t.name)))
