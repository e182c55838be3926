"""SummarizeResponses' messages to domain objects and back: options and survey responses in, the
analytics `Summary` out (and back in, for callers that read the answer: the CLI, the tests).

Every refusal is an InvalidArgument naming the wire field: ``options.period.end``,
``responses[12345].score``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.analytics import (GroupFigures, GroupSummary, Granularity, Period, Response, Score,
                                ScoreMetrics, SegmentSummary, SentimentMetrics, Summary, SummaryOptions, SurveyType,
                                TagChange, TagSummary, TopTag, TrendBucket)
from verbatim.models.types import SENTIMENT_LABELS, Sentiment
from verbatim.service.convert import account_from_proto
from verbatim.service.errors import InvalidArgument, fields
from verbatim.service.requests import IncomingResponse, SummaryRequest
from verbatim.service.summaries import SummaryResult
from verbatim.service.validation import RequestLimits, validate_summary_batch
from verbatim.v1 import verbatim_pb2 as pb

SURVEY_TYPES: dict[int, SurveyType] = {
    pb.SURVEY_TYPE_NPS: SurveyType.NPS, pb.SURVEY_TYPE_CSAT: SurveyType.CSAT, pb.SURVEY_TYPE_CES: SurveyType.CES}
_SURVEY_TYPES_TO_PROTO = {survey: number for number, survey in SURVEY_TYPES.items()}
GRANULARITIES: dict[int, Granularity] = {
    pb.GRANULARITY_UNSPECIFIED: Granularity.WEEK, pb.GRANULARITY_DAY: Granularity.DAY,
    pb.GRANULARITY_WEEK: Granularity.WEEK, pb.GRANULARITY_MONTH: Granularity.MONTH}
_GRANULARITIES_TO_PROTO = {Granularity.DAY: pb.GRANULARITY_DAY, Granularity.WEEK: pb.GRANULARITY_WEEK,
                           Granularity.MONTH: pb.GRANULARITY_MONTH}
_SENTIMENT_LABELS = {pb.SENTIMENT_LABEL_NEGATIVE: "negative", pb.SENTIMENT_LABEL_NEUTRAL: "neutral",
                     pb.SENTIMENT_LABEL_POSITIVE: "positive"}
_SENTIMENT_LABELS_TO_PROTO = {label: number for number, label in _SENTIMENT_LABELS.items()}
assert set(_SENTIMENT_LABELS.values()) == set(SENTIMENT_LABELS)


# ---------------------------------------------------------------- requests

async def read_summary_stream(messages: AsyncIterator[pb.SummarizeResponsesRequest], limits: RequestLimits
                              ) -> tuple[SummaryRequest, AsyncIterator[list[IncomingResponse]]]:
    """The stream's options (from its first message), and its responses message by message, each
    checked against `limits` and numbered across the whole stream."""
    iterator = aiter(messages)
    first = await anext(iterator, None)
    if first is None:
        return SummaryRequest(), _no_batches()
    request = summary_request_from_proto(first.options) if first.HasField("options") else SummaryRequest()
    default_survey_type = request.options.survey_type

    async def batches() -> AsyncIterator[list[IncomingResponse]]:
        message: pb.SummarizeResponsesRequest | None = first
        number = index = 0
        while message is not None:
            if number and message.HasField("options"):
                raise InvalidArgument("options", f"set in message {number} of the stream; only the first message "
                                                 "may carry options")
            validate_summary_batch(index, [r.text for r in message.responses], limits)
            yield [survey_response_from_proto(index + k, r, default_survey_type)
                   for k, r in enumerate(message.responses)]
            index += len(message.responses)
            number += 1
            message = await anext(iterator, None)

    return request, batches()


async def _no_batches() -> AsyncIterator[list[IncomingResponse]]:
    return
    yield  # an async generator that yields nothing


def summary_request_from_proto(options: pb.SummaryOptions) -> SummaryRequest:
    """The domain form of the stream's options."""
    survey_type = None
    if options.survey_type != pb.SURVEY_TYPE_UNSPECIFIED:
        survey_type = _survey_type(options.survey_type, "options.survey_type")
    if options.granularity not in GRANULARITIES:
        raise InvalidArgument("options.granularity", f"unknown value {options.granularity}; expected DAY, WEEK or "
                                                     "MONTH")
    segment_by = options.segment_by if options.HasField("segment_by") else None
    if segment_by is not None and not segment_by.strip():
        raise InvalidArgument("options.segment_by", "must be a property name when set")
    with fields("options"):
        settings = SummaryOptions(
            survey_type=survey_type, granularity=GRANULARITIES[options.granularity],
            **{name: getattr(options, name) for name in ("min_count", "min_segment_size", "top")
               if options.HasField(name)})
    return SummaryRequest(
        account_id=account_from_proto(options.account_id),
        period=_period(options, "period"), compare_to=_period(options, "compare_to"),
        segment_by=segment_by, tz=_time_zone(options.time_zone), options=settings)


def survey_response_from_proto(index: int, message: pb.SurveyResponse,
                               default_survey_type: SurveyType | None) -> IncomingResponse:
    """The domain form of the `index`-th response of the stream."""
    where = f"responses[{index}]"
    if not message.HasField("time"):
        raise InvalidArgument(f"{where}.time", "must be set to when the customer answered")
    time = _datetime(message.time, f"{where}.time")
    score = None
    if message.HasField("score"):
        if message.survey_type != pb.SURVEY_TYPE_UNSPECIFIED:
            survey_type = _survey_type(message.survey_type, f"{where}.survey_type")
        elif default_survey_type is not None:
            survey_type = default_survey_type
        else:
            raise InvalidArgument(f"{where}.survey_type", "must be set for a response with a score (or set "
                                                          "options.survey_type for the whole stream)")
        with fields(where):
            score = Score(message.score, survey_type)
    given = message.HasField("given")
    with fields(f"{where}.given" if given else where):
        response = Response(time=time, text=message.text, score=score, properties=dict(message.properties),
                            tags=frozenset(message.given.tags) if given else frozenset(),
                            sentiment=_sentiment(message.given, f"{where}.given") if given else None)
    return IncomingResponse(index, response, classify=not given and response.has_comment)


def _period(options: pb.SummaryOptions, name: str) -> Period | None:
    if not options.HasField(name):
        return None
    window: pb.TimeRange = getattr(options, name)
    where = f"options.{name}"
    for end in ("start", "end"):
        if not window.HasField(end):
            raise InvalidArgument(f"{where}.{end}", "must be set (a time range has both ends)")
    with fields(where):
        return Period(_datetime(window.start, f"{where}.start"), _datetime(window.end, f"{where}.end"))


def _time_zone(name: str) -> tzinfo:
    if not name:
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument("options.time_zone", f"unknown time zone {name!r}; use an IANA name such as "
                                                   "'Europe/Paris', or leave it empty for UTC") from None


def _survey_type(number: int, field: str) -> SurveyType:
    survey_type = SURVEY_TYPES.get(number)
    if survey_type is None:
        raise InvalidArgument(field, f"unknown survey type {number}; expected NPS, CSAT or CES")
    return survey_type


def _sentiment(given: pb.GivenLabels, where: str) -> Sentiment | None:
    if not given.HasField("sentiment"):
        return None
    label = _SENTIMENT_LABELS.get(given.sentiment.label)
    if label is None:
        raise InvalidArgument(f"{where}.sentiment.label", "must be NEGATIVE, NEUTRAL or POSITIVE")
    return Sentiment(label=label, score=given.sentiment.score, probabilities={})


def _datetime(stamp: Timestamp, field: str) -> datetime:
    try:
        return stamp.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(field, f"not a valid timestamp ({exc})") from None


def summary_options_to_proto(account_id: str, *, period: Period | None, compare_to: Period | None,
                             segment_by: str | None, tz_name: str, options: SummaryOptions) -> pb.SummaryOptions:
    """The wire form of a summary's options, for a caller of SummarizeResponses."""
    message = pb.SummaryOptions(
        account_id=account_id, segment_by=segment_by, time_zone="" if tz_name.upper() == "UTC" else tz_name,
        granularity=_GRANULARITIES_TO_PROTO[options.granularity], min_count=options.min_count,
        min_segment_size=options.min_segment_size, top=options.top)
    if options.survey_type is not None:
        message.survey_type = _SURVEY_TYPES_TO_PROTO[options.survey_type]
    for name, window in (("period", period), ("compare_to", compare_to)):
        if window is not None:
            getattr(message, name).CopyFrom(pb.TimeRange(start=_timestamp(window.start), end=_timestamp(window.end)))
    return message


def survey_response_to_proto(response: Response, *, given: bool) -> pb.SurveyResponse:
    """The wire form of `response`: its tags and sentiment as given, or (`given` False) left to the model."""
    message = pb.SurveyResponse(text=response.text or "", time=_timestamp(response.time),
                                properties=dict(response.properties))
    if response.score is not None:
        message.score = response.score.value
        message.survey_type = _SURVEY_TYPES_TO_PROTO[response.score.survey_type]
    if given:
        message.given.SetInParent()  # present even without a tag: people said none applies
        message.given.tags.extend(sorted(response.tags))
        if response.sentiment is not None:
            message.given.sentiment.label = _SENTIMENT_LABELS_TO_PROTO[response.sentiment.label]
            message.given.sentiment.score = response.sentiment.score
    return message


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


# ---------------------------------------------------------------- the summary

def summary_result_to_proto(result: SummaryResult) -> pb.SummarizeResponsesResponse:
    return pb.SummarizeResponsesResponse(model_version=result.model_version, summary=summary_to_proto(result.summary),
                                         classified=result.classified, given=result.given)


def summary_to_proto(summary: Summary) -> pb.ResponseSummary:
    """The wire form of `summary`; `summary_from_proto` reads it back into an equal Summary."""
    message = pb.ResponseSummary(
        min_count=summary.min_count, current=_group_to_proto(summary.current),
        score_change=summary.score_change, segment_by=summary.segment_by,
        granularity=_GRANULARITIES_TO_PROTO[summary.granularity],
        top_detractor_tags=[_top_to_proto(t) for t in summary.top_detractor_tags],
        top_promoter_tags=[_top_to_proto(t) for t in summary.top_promoter_tags],
        trend=[pb.TrendBucket(start=b.start.isoformat(), end=b.end.isoformat(), summary=_group_to_proto(b.summary))
               for b in summary.trend],
        segments=[pb.SegmentSummary(name=s.name, values=s.values, summary=_group_to_proto(s.summary))
                  for s in summary.segments])
    if summary.survey_type is not None:
        message.survey_type = _SURVEY_TYPES_TO_PROTO[summary.survey_type]
    if summary.prior is not None:
        message.prior.CopyFrom(_figures_to_proto(summary.prior))
    return message


def summary_from_proto(message: pb.ResponseSummary) -> Summary:
    """The Summary that `summary_to_proto` wrote."""
    return Summary(
        survey_type=SURVEY_TYPES.get(message.survey_type), min_count=message.min_count,
        current=_group_from_proto(message.current),
        prior=_figures_from_proto(message.prior) if message.HasField("prior") else None,
        score_change=_optional(message, "score_change"),
        top_detractor_tags=tuple(_top_from_proto(t) for t in message.top_detractor_tags),
        top_promoter_tags=tuple(_top_from_proto(t) for t in message.top_promoter_tags),
        granularity=GRANULARITIES[message.granularity],
        trend=tuple(TrendBucket(date.fromisoformat(b.start), date.fromisoformat(b.end), _group_from_proto(b.summary))
                    for b in message.trend),
        segment_by=_optional(message, "segment_by"),
        segments=tuple(SegmentSummary(s.name, tuple(s.values), _group_from_proto(s.summary))
                       for s in message.segments))


def _group_to_proto(group: GroupSummary) -> pb.GroupSummary:
    return pb.GroupSummary(figures=_figures_to_proto(group.figures), tags=[_tag_to_proto(t) for t in group.tags])


def _group_from_proto(message: pb.GroupSummary) -> GroupSummary:
    return GroupSummary(_figures_from_proto(message.figures), tuple(_tag_from_proto(t) for t in message.tags))


def _figures_to_proto(figures: GroupFigures) -> pb.GroupFigures:
    message = pb.GroupFigures(responses=figures.responses, commented=figures.commented,
                              sentiment=_sentiment_to_proto(figures.sentiment))
    if figures.score is not None:
        message.score.CopyFrom(_score_to_proto(figures.score))
    return message


def _figures_from_proto(message: pb.GroupFigures) -> GroupFigures:
    return GroupFigures(message.responses, message.commented, _score_from_proto(message, "score"),
                        _sentiment_from_proto(message.sentiment))


def _tag_to_proto(tag: TagSummary) -> pb.TagSummary:
    message = pb.TagSummary(name=tag.name, parent=tag.parent, count=tag.count, share=tag.share,
                            sentiment=_sentiment_to_proto(tag.sentiment), impact=tag.impact, too_small=tag.too_small)
    if tag.score is not None:
        message.score.CopyFrom(_score_to_proto(tag.score))
    if tag.change is not None:
        change = tag.change
        message.change.CopyFrom(pb.TagChange(
            prior_count=change.prior_count, prior_share=change.prior_share, share_points=change.share_points,
            prior_score=change.prior_score, score_change=change.score_change))
    return message


def _tag_from_proto(message: pb.TagSummary) -> TagSummary:
    change = None
    if message.HasField("change"):
        c = message.change
        change = TagChange(c.prior_count, _optional(c, "prior_share"), _optional(c, "share_points"),
                           _optional(c, "prior_score"), _optional(c, "score_change"))
    return TagSummary(
        name=message.name, parent=_optional(message, "parent"), count=message.count,
        share=_optional(message, "share"), score=_score_from_proto(message, "score"),
        sentiment=_sentiment_from_proto(message.sentiment), impact=_optional(message, "impact"),
        too_small=message.too_small, change=change)


def _score_to_proto(score: ScoreMetrics) -> pb.ScoreMetrics:
    return pb.ScoreMetrics(
        survey_type=_SURVEY_TYPES_TO_PROTO[score.survey_type], scored=score.scored, value=score.value,
        mean=score.mean, detractors=score.detractors, passives=score.passives, promoters=score.promoters,
        detractors_pct=score.detractors_pct, passives_pct=score.passives_pct, promoters_pct=score.promoters_pct)


def _score_from_proto(parent: pb.GroupFigures | pb.TagSummary, name: str) -> ScoreMetrics | None:
    if not parent.HasField(name):
        return None
    m: pb.ScoreMetrics = getattr(parent, name)
    return ScoreMetrics(
        SURVEY_TYPES[m.survey_type], m.scored, _optional(m, "value"), _optional(m, "mean"), m.detractors,
        m.passives, m.promoters, _optional(m, "detractors_pct"), _optional(m, "passives_pct"),
        _optional(m, "promoters_pct"))


def _sentiment_to_proto(s: SentimentMetrics) -> pb.SentimentMetrics:
    return pb.SentimentMetrics(
        classified=s.classified, mean=s.mean, negative=s.negative, neutral=s.neutral, positive=s.positive,
        negative_pct=s.negative_pct, neutral_pct=s.neutral_pct, positive_pct=s.positive_pct, net=s.net)


def _sentiment_from_proto(m: pb.SentimentMetrics) -> SentimentMetrics:
    return SentimentMetrics(
        m.classified, _optional(m, "mean"), m.negative, m.neutral, m.positive, _optional(m, "negative_pct"),
        _optional(m, "neutral_pct"), _optional(m, "positive_pct"), _optional(m, "net"))


def _top_to_proto(top: TopTag) -> pb.TopTag:
    return pb.TopTag(name=top.name, count=top.count, share=top.share)


def _top_from_proto(message: pb.TopTag) -> TopTag:
    return TopTag(message.name, message.count, message.share)


def _optional(message: Any, name: str) -> Any:
    """The value of an `optional` field, None when unset."""
    return getattr(message, name) if message.HasField(name) else None
