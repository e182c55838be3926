"""A survey response as the analytics see it, and the period a summary covers.

Responses are built from domain types only (`verbatim.models`); whoever reads them from the wire or a
file converts first, and every check names the field at fault (`InvalidInput.field`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from verbatim.models.types import SENTIMENT_LABELS, Sentiment

from verbatim.analytics.errors import InvalidInput
from verbatim.analytics.scores import Score


@dataclass(frozen=True)
class Response:
    """One survey response: an optional comment, its tags and sentiment, an optional score, a time and the
    customer's properties (plan, region, …).

    - `tags` are tag names as the comment was tagged (by the model or by a person); ancestors need not be
      listed, the accumulator adds them from the taxonomy. A response without a comment has no tags.
    - `sentiment` is the comment's sentiment (`verbatim.models.types.Sentiment`; its probabilities are not
      used and may be empty); None when there is no comment or it was not classified.
    - `score` is None for a response without a score: it counts in shares but not in score metrics.
    - `time` must be timezone-aware, so that day, week and month buckets are unambiguous.
    """

    time: datetime
    text: str | None = None
    tags: frozenset[str] = frozenset()
    sentiment: Sentiment | None = None
    score: Score | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.time, datetime):
            raise InvalidInput("time", f"must be a datetime, got {type(self.time).__name__}")
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise InvalidInput("time", "must be timezone-aware (e.g. 2026-03-01T09:30:00+00:00)")
        if self.text is not None and not isinstance(self.text, str):
            raise InvalidInput("text", f"must be a string, got {type(self.text).__name__}")
        if isinstance(self.tags, str):
            raise InvalidInput("tags", "must be a collection of tag names, not one string")
        tags = frozenset(self.tags)
        for tag in tags:
            if not isinstance(tag, str) or not tag.strip():
                raise InvalidInput("tags", f"a tag name must be a non-empty string, got {tag!r}")
        if tags and not self.has_comment:
            raise InvalidInput("tags", "a response without a comment cannot have tags")
        object.__setattr__(self, "tags", tags)
        if self.sentiment is not None:
            _check_sentiment(self.sentiment)
        if self.score is not None and not isinstance(self.score, Score):
            raise InvalidInput("score", f"must be a Score, got {type(self.score).__name__}")
        for key, value in self.properties.items():
            if not isinstance(key, str) or not key:
                raise InvalidInput("properties", f"a property name must be a non-empty string, got {key!r}")
            if not isinstance(value, str):
                raise InvalidInput(f"properties.{key}", f"must be a string, got {type(value).__name__}")
        # read-only, so a frozen response stays frozen
        object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))

    @property
    def has_comment(self) -> bool:
        """Whether the customer wrote something (blank text is no comment)."""
        return self.text is not None and bool(self.text.strip())


def _check_sentiment(sentiment: Sentiment) -> None:
    if sentiment.label not in SENTIMENT_LABELS:
        raise InvalidInput("sentiment.label", f"unknown label {sentiment.label!r}; expected one of "
                                              f"{', '.join(SENTIMENT_LABELS)}")
    score = sentiment.score
    if isinstance(score, bool) or not isinstance(score, (int, float)) or math.isnan(score) or not -1 <= score <= 1:
        raise InvalidInput("sentiment.score", f"must be a number from -1 to 1, got {score!r}")


@dataclass(frozen=True)
class Period:
    """A half-open time range ``[start, end)``; both ends timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
                raise InvalidInput(name, "must be a timezone-aware datetime")
        if self.end < self.start:
            raise InvalidInput("end", f"{self.end.isoformat()} is before the start {self.start.isoformat()}")

    @classmethod
    def named(cls, name: str, start: datetime, end: datetime) -> "Period":
        """A period whose errors name the request field it came from (``compare_to.end``)."""
        try:
            return cls(start, end)
        except InvalidInput as error:
            raise error.within(name) from None

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end
