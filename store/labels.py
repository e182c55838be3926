"""The latest labels of each corrected comment: what retraining reads (DESIGN §5 step 1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from verbatim.store.corrections import Action, Correction


@dataclass(frozen=True)
class TagLabel:
    """The latest correction of one tag on one comment."""

    tag: str
    action: Action
    predicted_by_model: bool
    time: datetime
    correction_id: str
    sentiment: str | None = None  # what the comment says about the tag, if that ADD said it

    @property
    def present(self) -> bool:
        return self.action is Action.ADD


@dataclass(frozen=True)
class CommentLabels:
    """Everything people said about one comment, reduced to the latest word on each tag.

    `text` is the text of the comment's latest correction; `sentiment` is the latest
    sentiment correction, or None if nobody corrected the sentiment. `tags` is sorted by name.
    """

    account_id: str
    comment_id: str
    text: str
    tags: tuple[TagLabel, ...]
    sentiment: str | None

    @property
    def added(self) -> frozenset[str]:
        """Tags whose latest correction is ADD: positive examples."""
        return frozenset(t.tag for t in self.tags if t.present)

    @property
    def removed(self) -> frozenset[str]:
        """Tags whose latest correction is REMOVE: negative examples."""
        return frozenset(t.tag for t in self.tags if not t.present)


# (time, arrival seq): the later person wins; at the same instant, the later arrival does.
_Key = tuple[datetime, int]


@dataclass
class _Comment:
    first_seq: int
    text_key: _Key
    text: str
    tags: dict[str, tuple[_Key, TagLabel]] = field(default_factory=dict)
    sentiment: tuple[_Key, str] | None = None


def fold_labels(corrections: Iterable[tuple[int, Correction]]) -> list[CommentLabels]:
    """Reduce (arrival seq, correction) pairs to one CommentLabels per (account, comment).

    The result does not depend on the input order; comments come out in order of their first
    correction's arrival.
    """
    comments: dict[tuple[str, str], _Comment] = {}
    for seq, c in corrections:
        key: _Key = (c.time, seq)
        state = comments.get((c.account_id, c.comment_id))
        if state is None:
            state = comments[(c.account_id, c.comment_id)] = _Comment(first_seq=seq, text_key=key, text=c.text)
        state.first_seq = min(state.first_seq, seq)
        if key > state.text_key:
            state.text_key, state.text = key, c.text
        if c.tag and c.action is not None:
            prior = state.tags.get(c.tag)
            if prior is None or key > prior[0]:
                state.tags[c.tag] = (key, TagLabel(tag=c.tag, action=c.action, predicted_by_model=c.predicted_by_model,
                                                   time=c.time, correction_id=c.correction_id,
                                                   sentiment=c.tag_sentiment))
        if c.sentiment is not None and (state.sentiment is None or key > state.sentiment[0]):
            state.sentiment = (key, c.sentiment)
    ordered = sorted(comments.items(), key=lambda item: item[1].first_seq)
    return [CommentLabels(account_id=account, comment_id=comment, text=s.text,
                          tags=tuple(label for _, (_, label) in sorted(s.tags.items())),
                          sentiment=s.sentiment[1] if s.sentiment is not None else None)
            for (account, comment), s in ordered]
