"""From accumulators to the summary: `summarize(current, prior, options)`.

Every figure here is computed from integer counts, so equal accumulators give equal summaries: however
a stream was chunked and merged, the answer is the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timezone, tzinfo

from verbatim.models.taxonomy import Taxonomy

from verbatim.analytics.accumulator import MISSING_SEGMENT, Accumulator
from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.report import (GroupFigures, GroupSummary, SegmentSummary, SentimentMetrics, Summary, TagChange,
                     TagSummary, TopTag, TrendBucket)
from verbatim.analytics.responses import Period, Response
from verbatim.analytics.scores import ScoreMetrics, SurveyType
from verbatim.analytics.segments import fold
from verbatim.analytics.tally import SENTIMENT_SCALE, Slice, Tally
from verbatim.analytics.trend import Granularity, buckets

DETRACTORS, PROMOTERS = 0, 2


@dataclass(frozen=True)
class SummaryOptions:
    """How to summarise.

    - `survey_type`: the survey whose metric to report; None picks the only one present (responses of
      another survey type then count in shares but not in score metrics, like unscored ones).
    - `min_count`: a tag (or a tag within a bucket or segment) with fewer responses is flagged
      `too_small`.
    - `min_segment_size`: segments with fewer responses are folded into "other".
    - `granularity`: the trend bucket; `top`: how many top tags among detractors and promoters.
    """

    survey_type: SurveyType | None = None
    min_count: int = 30
    min_segment_size: int = 50
    granularity: Granularity = Granularity.WEEK
    top: int = 5

    def __post_init__(self) -> None:
        if self.survey_type is not None:
            object.__setattr__(self, "survey_type", SurveyType.parse(self.survey_type))
        object.__setattr__(self, "granularity", Granularity.parse(self.granularity))
        for name in ("min_count", "min_segment_size", "top"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInput(name, f"must be a whole number of at least 1, got {value!r}")


def summarize(current: Accumulator, prior: Accumulator | None = None,
              options: SummaryOptions = SummaryOptions()) -> Summary:
    """The summary of `current`, compared with `prior` when given."""
    if prior is not None and prior.taxonomy != current.taxonomy:
        raise InvalidInput("taxonomy", "the prior period must use the same taxonomy")
    if (current.segment_by is not None and current.total.overall.responses
            and set(current.segments) == {MISSING_SEGMENT}):
        raise InvalidInput("segment_by", f"no response has the property {current.segment_by!r}")
    survey_type = _survey_type(current, prior, options.survey_type)
    parents = _parents(current.taxonomy)

    def group(part: Slice, prior_part: Slice | None = None) -> GroupSummary:
        return _group(part, prior_part, survey_type, options.min_count, parents)

    main = group(current.total, prior.total if prior is not None else None)
    prior_figures = _figures(prior.total.overall, survey_type) if prior is not None else None
    score_change = _difference(main.figures.score, prior_figures.score if prior_figures else None)
    trend = tuple(TrendBucket(start, end, group(part))
                  for start, end, part in buckets(current.days, options.granularity))
    segments = tuple(SegmentSummary(s.name, s.values, group(s.counts))
                     for s in fold(current.segments, options.min_segment_size))
    return Summary(
        survey_type=survey_type, min_count=options.min_count, current=main, prior=prior_figures,
        score_change=score_change,
        top_detractor_tags=_top(current.total, survey_type, DETRACTORS, options.top),
        top_promoter_tags=_top(current.total, survey_type, PROMOTERS, options.top),
        granularity=options.granularity, trend=trend, segment_by=current.segment_by, segments=segments)


class PeriodCounts:
    """Counts a stream of responses into the current period and, optionally, a prior one: those within
    `period` (all, when None) are current, those within `compare_to` prior; any other response is
    ignored. `add` one response at a time, then `summary`. Only counts are kept (see `Accumulator`)."""

    def __init__(self, taxonomy: Taxonomy | None = None, *, period: Period | None = None,
                 compare_to: Period | None = None, segment_by: str | None = None,
                 tz: tzinfo = timezone.utc) -> None:
        self.period = period
        self.compare_to = compare_to
        self.current = Accumulator(taxonomy, segment_by=segment_by, tz=tz)
        self.prior = Accumulator(taxonomy, tz=tz) if compare_to is not None else None

    def add(self, response: Response) -> None:
        """Count `response` in the period it falls in, if any."""
        if self.period is None or response.time in self.period:
            self.current.add(response)
        elif self.prior is not None and response.time in self.compare_to:  # type: ignore[operator]
            self.prior.add(response)

    def summary(self, options: SummaryOptions = SummaryOptions()) -> Summary:
        """The summary of what was counted so far."""
        return summarize(self.current, self.prior, options)


def summarize_responses(responses: Iterable[Response], taxonomy: Taxonomy | None = None, *,
                        period: Period | None = None, compare_to: Period | None = None,
                        segment_by: str | None = None, tz: tzinfo = timezone.utc,
                        options: SummaryOptions = SummaryOptions()) -> Summary:
    """Summarise a stream of responses in one pass (see `PeriodCounts` for the periods)."""
    counts = PeriodCounts(taxonomy, period=period, compare_to=compare_to, segment_by=segment_by, tz=tz)
    for response in responses:
        counts.add(response)
    return counts.summary(options)


def _survey_type(current: Accumulator, prior: Accumulator | None, chosen: SurveyType | None) -> SurveyType | None:
    if chosen is not None:
        return chosen
    present = current.total.overall.survey_types()
    if prior is not None:
        present |= prior.total.overall.survey_types()
    if len(present) > 1:
        names = ", ".join(sorted(t.value for t in present))
        raise InvalidInput("survey_type", f"the responses mix survey types ({names}); choose one")
    return next(iter(present), None)


def _parents(taxonomy: Taxonomy | None) -> dict[str, str | None]:
    return {} if taxonomy is None else {tag.name: tag.parent for tag in taxonomy.tags}


def _score(tally: Tally, survey_type: SurveyType | None) -> ScoreMetrics | None:
    if survey_type is None:
        return None
    return ScoreMetrics.from_histogram(survey_type, tally.histogram(survey_type))


def _sentiment(tally: Tally) -> SentimentMetrics:
    negative, neutral, positive = tally.sentiments
    classified = negative + neutral + positive
    if classified == 0:
        return SentimentMetrics(0, None, 0, 0, 0, None, None, None, None)
    return SentimentMetrics(
        classified=classified, mean=tally.sentiment_micro / SENTIMENT_SCALE / classified,
        negative=negative, neutral=neutral, positive=positive,
        negative_pct=100.0 * negative / classified, neutral_pct=100.0 * neutral / classified,
        positive_pct=100.0 * positive / classified, net=100.0 * (positive - negative) / classified)


def _figures(tally: Tally, survey_type: SurveyType | None) -> GroupFigures:
    return GroupFigures(tally.responses, tally.commented, _score(tally, survey_type), _sentiment(tally))


def _share(count: int, commented: int) -> float | None:
    return 100.0 * count / commented if commented else None


def _difference(now: ScoreMetrics | None, before: ScoreMetrics | None) -> float | None:
    if now is None or before is None or now.value is None or before.value is None:
        return None
    return now.value - before.value


def _group(part: Slice, prior_part: Slice | None, survey_type: SurveyType | None, min_count: int,
           parents: dict[str, str | None]) -> GroupSummary:
    figures = _figures(part.overall, survey_type)
    names = set(part.tags) | (set(prior_part.tags) if prior_part is not None else set())
    tags = []
    for name in names:
        tally = part.tags.get(name) or Tally()
        score = _score(tally, survey_type)
        without = _score(part.overall.minus(tally), survey_type)
        change = None
        if prior_part is not None:
            before = prior_part.tags.get(name) or Tally()
            prior_share = _share(before.responses, prior_part.overall.commented)
            now_share = _share(tally.responses, part.overall.commented)
            prior_score = _score(before, survey_type)
            change = TagChange(
                prior_count=before.responses, prior_share=prior_share,
                share_points=None if now_share is None or prior_share is None else now_share - prior_share,
                prior_score=prior_score.value if prior_score is not None else None,
                score_change=_difference(score, prior_score))
        tags.append(TagSummary(
            name=name, parent=parents.get(name), count=tally.responses,
            share=_share(tally.responses, part.overall.commented), score=score, sentiment=_sentiment(tally),
            impact=_difference(figures.score, without), too_small=tally.responses < min_count, change=change))
    tags.sort(key=lambda t: (-t.count, t.name))
    return GroupSummary(figures, tuple(tags))


def _top(part: Slice, survey_type: SurveyType | None, band: int, top: int) -> tuple[TopTag, ...]:
    if survey_type is None:
        return ()
    low = survey_type.scale[0]
    in_band = [i for i in range(survey_type.size) if survey_type.band(low + i) == band]
    respondents = sum(part.overall.histogram(survey_type, commented_only=True)[i] for i in in_band)
    ranked = []
    for name, tally in part.tags.items():
        count = sum(tally.histogram(survey_type)[i] for i in in_band)
        if count:
            ranked.append(TopTag(name, count, 100.0 * count / respondents))
    ranked.sort(key=lambda t: (-t.count, t.name))
    return tuple(ranked[:top])
