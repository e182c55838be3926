"""Summaries of classified survey responses: the "Tags tab" (DESIGN §6).

Pure Python on domain objects: NPS/CSAT/CES overall and per tag, impact on the score, change against a
prior period, top tags among detractors and promoters, trends and segments. Imports `verbatim.models`
domain types only; never grpc or the generated stubs.

    accumulator = Accumulator(taxonomy, segment_by="plan")
    for response in responses:          # or: count chunks apart and `merge` them
        accumulator.add(response)
    summary = summarize(accumulator, prior_accumulator, SummaryOptions(granularity=Granularity.MONTH))
"""

from verbatim.analytics.accumulator import MISSING_SEGMENT, Accumulator
from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.report import (GroupFigures, GroupSummary, SegmentSummary, SentimentMetrics, Summary, TagChange,
                     TagSummary, TopTag, TrendBucket)
from verbatim.analytics.responses import Period, Response
from verbatim.analytics.scores import Score, ScoreMetrics, SurveyType, ces, csat, nps
from verbatim.analytics.segments import OTHER_SEGMENT
from verbatim.analytics.summarize import PeriodCounts, SummaryOptions, summarize, summarize_responses
from verbatim.analytics.trend import Granularity, bucket_start

__all__ = [
    "Accumulator", "GroupFigures", "GroupSummary", "Granularity", "InvalidInput", "MISSING_SEGMENT",
    "OTHER_SEGMENT", "Period", "PeriodCounts", "Response", "Score", "ScoreMetrics", "SegmentSummary", "SentimentMetrics",
    "Summary", "SummaryOptions", "SurveyType", "TagChange", "TagSummary", "TopTag", "TrendBucket",
    "bucket_start", "ces", "csat", "nps", "summarize", "summarize_responses",
]
