"""Counts of one group of responses (`Tally`) and of one slice of them, overall and per tag (`Slice`).

Only integers are kept, never a response: memory does not grow with the number of responses, and adding
partial tallies gives exactly the tally of the whole in any order. Sentiment scores are summed in
millionths for that reason (float addition is not associative; 1e-6 is far below what a mean can show).
"""

from __future__ import annotations

from verbatim.models.types import SENTIMENT_LABELS

from verbatim.analytics.responses import Response
from verbatim.analytics.scores import SurveyType

SENTIMENT_SCALE = 1_000_000
_LABEL_INDEX = {label: i for i, label in enumerate(SENTIMENT_LABELS)}


class Tally:
    """Counts over a group of responses.

    - `responses` and `commented` (with a non-blank comment);
    - `scores[survey_type]`: histogram of all scores of that type; `commented_scores`: the same over
      commented responses only (the denominator of "share of detractors who mention a tag");
    - `sentiments`: negative/neutral/positive counts and `sentiment_micro`, the sum of sentiment scores
      in millionths.
    """

    __slots__ = ("responses", "commented", "scores", "commented_scores", "sentiments", "sentiment_micro")

    def __init__(self) -> None:
        self.responses = 0
        self.commented = 0
        self.scores: dict[SurveyType, list[int]] = {}
        self.commented_scores: dict[SurveyType, list[int]] = {}
        self.sentiments = [0, 0, 0]
        self.sentiment_micro = 0

    def add(self, response: Response) -> None:
        """Count one response."""
        self.responses += 1
        commented = response.has_comment
        if commented:
            self.commented += 1
        score = response.score
        if score is not None:
            index = score.value - score.survey_type.scale[0]
            _bins(self.scores, score.survey_type)[index] += 1
            if commented:
                _bins(self.commented_scores, score.survey_type)[index] += 1
        sentiment = response.sentiment
        if sentiment is not None:
            self.sentiments[_LABEL_INDEX[sentiment.label]] += 1
            self.sentiment_micro += round(sentiment.score * SENTIMENT_SCALE)

    def absorb(self, other: "Tally", sign: int = 1) -> None:
        """Add (`sign` 1) or take away (`sign` -1) the counts of `other`, in place."""
        self.responses += sign * other.responses
        self.commented += sign * other.commented
        for mine, theirs in ((self.scores, other.scores), (self.commented_scores, other.commented_scores)):
            for survey_type, counts in theirs.items():
                bins = _bins(mine, survey_type)
                for i, count in enumerate(counts):
                    bins[i] += sign * count
        for i, count in enumerate(other.sentiments):
            self.sentiments[i] += sign * count
        self.sentiment_micro += sign * other.sentiment_micro

    def copy(self) -> "Tally":
        """An independent copy."""
        out = Tally()
        out.absorb(self)
        return out

    def minus(self, other: "Tally") -> "Tally":
        """The counts of this group without the responses of `other`, which must be a subgroup."""
        out = self.copy()
        out.absorb(other, sign=-1)
        return out

    def histogram(self, survey_type: SurveyType, commented_only: bool = False) -> list[int]:
        """The score histogram of `survey_type` (zeros when there is none)."""
        source = self.commented_scores if commented_only else self.scores
        return list(source.get(survey_type, [0] * survey_type.size))

    def survey_types(self) -> set[SurveyType]:
        """The survey types with at least one score."""
        return {t for t, counts in self.scores.items() if any(counts)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tally):
            return NotImplemented
        return all(_nonzero(getattr(self, name)) == _nonzero(getattr(other, name)) for name in self.__slots__)

    def __repr__(self) -> str:
        return (f"Tally(responses={self.responses}, commented={self.commented}, scores={self.scores}, "
                f"sentiments={self.sentiments}, sentiment_micro={self.sentiment_micro})")


def _bins(histograms: dict[SurveyType, list[int]], survey_type: SurveyType) -> list[int]:
    bins = histograms.get(survey_type)
    if bins is None:
        bins = histograms[survey_type] = [0] * survey_type.size
    return bins


def _nonzero(value: object) -> object:
    # a histogram that was emptied by `minus` equals one never created
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if any(v)}
    return value


class Slice:
    """A group of responses counted overall and per tag (each tag already closed over its ancestors)."""

    __slots__ = ("overall", "tags")

    def __init__(self) -> None:
        self.overall = Tally()
        self.tags: dict[str, Tally] = {}

    def add(self, response: Response, tags: frozenset[str] | set[str]) -> None:
        """Count `response` overall and under each of `tags`."""
        self.overall.add(response)
        for tag in tags:
            tally = self.tags.get(tag)
            if tally is None:
                tally = self.tags[tag] = Tally()
            tally.add(response)

    def absorb(self, other: "Slice") -> None:
        """Add the counts of `other`, in place."""
        self.overall.absorb(other.overall)
        for tag, tally in other.tags.items():
            mine = self.tags.get(tag)
            if mine is None:
                mine = self.tags[tag] = Tally()
            mine.absorb(tally)

    def copy(self) -> "Slice":
        """An independent copy."""
        out = Slice()
        out.absorb(self)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slice):
            return NotImplemented
        return self.overall == other.overall and self.tags == other.tags

    def __repr__(self) -> str:
        return f"Slice(overall={self.overall!r}, tags={sorted(self.tags)})"
