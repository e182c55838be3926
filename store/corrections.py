"""Corrections: what a person said about one comment, and how a batch of them was stored."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import Enum

from verbatim.models.types import SENTIMENT_LABELS
from verbatim.store.errors import InvalidCorrection
from verbatim.store.names import MAX_NAME_LENGTH, name_problem, text_problem


class Action(str, Enum):
    ADD = "ADD"        # the comment has the tag: a positive example
    REMOVE = "REMOVE"  # the comment does not have the tag: a negative example


@dataclass(frozen=True)
class Correction:
    """One human correction of one comment.

    `tag` is empty, and `action` None, for a sentiment-only correction. `sentiment`, when set,
    relabels the comment; `tag_sentiment`, only on an ADD, is what the comment says about the tag.
    `time` is when the person made the correction and must be timezone-aware; the latest
    correction of a (comment, tag) wins. The store does not resolve an empty account to the
    default one: the caller does. `key_name` is the name of
    the API key that submitted it (None when the server ran without authentication); it is a
    record of who sent it, not part of what it says, so a resubmission by another key is a
    duplicate, not a conflict.
    """

    correction_id: str
    account_id: str
    comment_id: str
    text: str
    tag: str
    action: Action | None
    predicted_by_model: bool
    sentiment: str | None
    actor: str
    time: datetime
    key_name: str | None = None
    tag_sentiment: str | None = None

    @property
    def sentiment_only(self) -> bool:
        return self.tag == ""


def validate_correction(correction: Correction, where: str = "correction") -> None:
    """Raise InvalidCorrection, naming the field as `{where}.{field}`, if the correction is unusable.

    This checks the correction on its own; whether its account and tag exist is the store's job.
    """
    c = correction
    for name in ("correction_id", "account_id", "comment_id"):
        problem = name_problem(getattr(c, name))
        if problem is not None:
            raise InvalidCorrection(f"{where}.{name}", problem)
    if not isinstance(c.text, str) or not c.text.strip():
        raise InvalidCorrection(f"{where}.text", "must not be empty: the text is the training example")
    if c.key_name is not None and (not isinstance(c.key_name, str) or len(c.key_name) > MAX_NAME_LENGTH):
        raise InvalidCorrection(f"{where}.key_name", f"must be a string of at most {MAX_NAME_LENGTH} characters")
    if not isinstance(c.actor, str) or len(c.actor) > MAX_NAME_LENGTH:
        raise InvalidCorrection(f"{where}.actor", f"must be a string of at most {MAX_NAME_LENGTH} characters")
    for name in ("text", "actor"):
        problem = text_problem(getattr(c, name))
        if problem is not None:
            raise InvalidCorrection(f"{where}.{name}", problem)
    if c.sentiment is not None and c.sentiment not in SENTIMENT_LABELS:
        raise InvalidCorrection(f"{where}.sentiment",
                                f"must be one of {', '.join(SENTIMENT_LABELS)} or unset, got {c.sentiment!r}")
    if c.tag_sentiment is not None:
        if c.tag_sentiment not in SENTIMENT_LABELS:
            raise InvalidCorrection(f"{where}.tag_sentiment",
                                    f"must be one of {', '.join(SENTIMENT_LABELS)} or unset, got {c.tag_sentiment!r}")
        if c.action is not Action.ADD:
            raise InvalidCorrection(f"{where}.tag_sentiment", "may only be set on an ADD of a tag: it is the "
                                                              "sentiment about that tag")
    if not isinstance(c.time, datetime) or c.time.tzinfo is None or c.time.utcoffset() is None:
        raise InvalidCorrection(f"{where}.time", "must be a timezone-aware datetime")
    if not isinstance(c.predicted_by_model, bool):
        raise InvalidCorrection(f"{where}.predicted_by_model", "must be a bool")
    if c.tag == "":
        if c.action is not None:
            raise InvalidCorrection(f"{where}.action", "must be unset when no tag is given")
        if c.sentiment is None:
            raise InvalidCorrection(f"{where}.sentiment",
                                    "must be set when no tag is given: the correction would say nothing")
        if c.predicted_by_model:
            raise InvalidCorrection(f"{where}.predicted_by_model", "must be false when no tag is given")
        return
    problem = name_problem(c.tag)
    if problem is not None:
        raise InvalidCorrection(f"{where}.tag", problem)
    if not isinstance(c.action, Action):
        raise InvalidCorrection(f"{where}.action", f"must be ADD or REMOVE when a tag is given, got {c.action!r}")


def differing_fields(a: Correction, b: Correction) -> list[str]:
    """Names of the fields in which two corrections differ; empty when they are the same.
    The submitting key is not compared: it records who sent the correction, not what it says."""
    return [f.name for f in fields(Correction)
            if f.name not in _PROVENANCE and getattr(a, f.name) != getattr(b, f.name)]


_PROVENANCE = frozenset({"key_name"})


class Outcome(str, Enum):
    STORED = "STORED"        # new, and durable now
    DUPLICATE = "DUPLICATE"  # the same correction was stored before; nothing changed


@dataclass(frozen=True)
class SubmitResult:
    """How a batch was stored: one outcome per submitted correction, in submission order."""

    outcomes: tuple[Outcome, ...]

    @property
    def accepted(self) -> int:
        """Corrections stored by this call."""
        return sum(o is Outcome.STORED for o in self.outcomes)

    @property
    def duplicates(self) -> int:
        """Corrections that were already stored, with the same content."""
        return sum(o is Outcome.DUPLICATE for o in self.outcomes)
