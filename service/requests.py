"""Domain form of a ClassifyComments request, independent of the wire format."""

from __future__ import annotations

from dataclasses import dataclass, replace

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
