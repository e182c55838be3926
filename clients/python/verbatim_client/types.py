"""The client's plain, frozen values: what goes into an RPC and what comes back.

No protobuf message leaves the client; enums are `str` enums whose values are the lower-case
names (`SentimentLabel.NEGATIVE == "negative"`), so they print and serialise as plain strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

DEFAULT_ACCOUNT = "default"


class SurveyType(str, Enum):
    """The survey a score came from; it fixes the score's valid range."""

    NPS = "nps"    # 0-10
    CSAT = "csat"  # 1-5
    CES = "ces"    # 1-7


class SentimentLabel(str, Enum):
    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class TagSource(str, Enum):
    """Why a tag was given: the model, a keyword rule, or both agreeing."""

    MODEL = "model"
    RULE = "rule"
    BOTH = "both"


class CorrectionAction(str, Enum):
    ADD = "add"        # the comment has the tag: a positive example
    REMOVE = "remove"  # the comment does not have the tag: a negative example


class CorrectionOutcome(str, Enum):
    STORED = "stored"        # new, now durable
    DUPLICATE = "duplicate"  # this correction_id was stored before; nothing changed


@dataclass(frozen=True)
class Comment:
    """One comment to classify. `id` is echoed in the result; `score` is the survey score."""

    id: str
    text: str
    score: float | None = None
    survey_type: SurveyType | None = None


@dataclass(frozen=True)
class SentimentProbabilities:
    negative: float
    neutral: float
    positive: float


@dataclass(frozen=True)
class Sentiment:
    label: SentimentLabel
    score: float  # P(positive) - P(negative), in [-1, 1]
    probabilities: SentimentProbabilities


@dataclass(frozen=True)
class TagPrediction:
    name: str
    parent: str | None
    confidence: float
    source: TagSource
    evidence: str | None = None  # the matched keyword, for RULE and BOTH
    sentiment: Sentiment | None = None  # what the comment says about this tag

    @property
    def path(self) -> str:
        """`Integrations › Slack` for a child tag, the name for a top-level one."""
        return f"{self.parent} \u203a {self.name}" if self.parent else self.name


@dataclass(frozen=True)
class ClassifiedComment:
    """The answer for one comment, with the model version that produced it."""

    id: str
    tags: tuple[TagPrediction, ...]
    sentiment: Sentiment
    needs_review: bool
    model_version: str


@dataclass(frozen=True)
class Correction:
    """A person's tag or sentiment correction. `time` is when they made it (naive means UTC);
    resubmitting the same `correction_id` must send the same content, `time` included."""

    correction_id: str
    comment_id: str
    text: str
    time: datetime
    account_id: str = DEFAULT_ACCOUNT
    tag: str | None = None
    action: CorrectionAction | None = None  # required when tag is set
    predicted_by_model: bool = False
    sentiment: SentimentLabel | None = None
    actor: str = ""
    tag_sentiment: SentimentLabel | None = None  # what the comment says about `tag`; only with ADD


@dataclass(frozen=True)
class CorrectionResult:
    correction_id: str
    outcome: CorrectionOutcome


@dataclass(frozen=True)
class Tag:
    """A tag of an account's taxonomy; keywords add it by rule (whole words, any case)."""

    name: str
    parent: str | None = None
    description: str = ""
    keywords: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """`Integrations › Slack` for a child tag, the name for a top-level one."""
        return f"{self.parent} \u203a {self.name}" if self.parent else self.name


@dataclass(frozen=True)
class Account:
    """A new account: its industry (saas, ecommerce or media) and the taxonomy it starts from."""

    account_id: str
    industry: str
    tags: tuple[Tag, ...]


@dataclass(frozen=True)
class EvaluationSummary:
    """Headline figures on the held-out seed test split; None where the artifact has none."""

    theme_micro_f1: float | None = None
    theme_macro_f1: float | None = None
    keyword_baseline_micro_f1: float | None = None
    sentiment_accuracy: float | None = None
    sentiment_macro_f1: float | None = None
    test_comments: int | None = None
    training_seconds: float | None = None
    tag_sentiment_accuracy: float | None = None  # each gold tag's predicted sentiment
    theme_ece: float | None = None  # expected calibration error of the tag scores
    sentiment_ece: float | None = None
    needs_review_share: float | None = None  # of test comments flagged
    needs_review_error_ratio: float | None = None  # how much more often a flagged comment was wrong


@dataclass(frozen=True)
class ModelInfo:
    """The serving model: version, tags per account, evaluation and training config."""

    version: str
    created_at: datetime | None
    accounts: dict[str, tuple[Tag, ...]]
    summary: EvaluationSummary
    evaluation: dict[str, Any] = field(default_factory=dict)
    training_config: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    max_length: int = 0
    industries: dict[str, str] = field(default_factory=dict)  # by account; empty from a server without a store
    # The same headline figures on each industry's test split, and the temperatures fitted on dev.
    industry_summaries: dict[str, EvaluationSummary] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
