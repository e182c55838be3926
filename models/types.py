"""Domain objects returned by a model."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")


class TagSource(str, Enum):
    MODEL = "MODEL"
    RULE = "RULE"
    BOTH = "BOTH"


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float
    probabilities: dict[str, float]

    @classmethod
    def from_probabilities(cls, probs: list[float]) -> "Sentiment":
        by_label = {label: float(p) for label, p in zip(SENTIMENT_LABELS, probs)}
        label = max(by_label, key=by_label.__getitem__)
        return cls(label=label, score=by_label["positive"] - by_label["negative"], probabilities=by_label)


@dataclass(frozen=True)
class TagPrediction:
    name: str
    parent: str | None
    confidence: float
    source: TagSource
    evidence: str | None = None
    sentiment: Sentiment | None = None  # what the comment says about this tag; set by the predictor


@dataclass(frozen=True)
class Prediction:
    tags: tuple[TagPrediction, ...]
    sentiment: Sentiment
    needs_review: bool

    @property
    def tag_names(self) -> set[str]:
        return {t.name for t in self.tags}
