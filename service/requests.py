"""Domain forms of the requests (ClassifyComments, SummarizeResponses), independent of the wire format."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timezone, tzinfo

from verbatim.analytics import Period, Response, SummaryOptions
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.models.types import Prediction

# Valid score range per survey type; a score without a survey type must be 0-10.
SCORE_RANGES: dict[str | None, tuple[float, float]] = {
    None: (0, 10), "nps": (0, 10), "csat": (1, 5), "ces": (1, 7),
}


@dataclass(frozen=True)
class CommentInput:
    id: str
    text: str
    score: float | None = None
    survey_type: str | None = None  # a key of SCORE_RANGES


@dataclass(frozen=True)
class ClassifyOptions:
    min_confidence: float | None = None
    only_tags: tuple[str, ...] = ()

    def apply(self, prediction: Prediction) -> Prediction:
        """The prediction with the tags these options leave out removed."""
        if self.min_confidence is None and not self.only_tags:
            return prediction
        wanted = set(self.only_tags)
        tags = tuple(t for t in prediction.tags
                     if (not wanted or t.name in wanted)
                     and (self.min_confidence is None or t.confidence >= self.min_confidence))
        return replace(prediction, tags=tags)


@dataclass(frozen=True)
class ClassifyRequest:
    account_id: str
    comments: tuple[CommentInput, ...]
    options: ClassifyOptions = ClassifyOptions()


@dataclass(frozen=True)
class SummaryRequest:
    """Domain form of SummarizeResponses' options: whose taxonomy, which periods, how to summarise."""

    account_id: str = DEFAULT_ACCOUNT
    period: Period | None = None
    compare_to: Period | None = None
    segment_by: str | None = None
    tz: tzinfo = timezone.utc
    options: SummaryOptions = SummaryOptions()


@dataclass(frozen=True)
class IncomingResponse:
    """One streamed survey response: `index` counts from 0 across the whole stream (for error messages);
    `response` carries the given tags and sentiment, or none yet when `classify` says the model must."""

    index: int
    response: Response
    classify: bool
