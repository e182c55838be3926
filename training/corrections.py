"""Store state to training Records, with the label semantics of DESIGN §2.

A comment with any correction in an account counts as reviewed there: its final tag set
(the tags whose latest correction is ADD) is its full label for that account, so the
account's tags it lacks are negatives, whether a person removed them or never added them.
A sentiment correction relabels the comment; a tag's sentiment rides on its latest ADD.
Comments nobody corrected are not in the store and give no negatives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Taxonomy
from verbatim.store import Action, CommentLabels, Correction, Store
from verbatim.training.corpus import Record


def comment_record(labels: CommentLabels, taxonomy: Taxonomy) -> Record | None:
    """The training Record of one corrected comment, against the account's current taxonomy.

    Tags deleted since they were corrected are dropped and the rest are closed under their
    parents. A comment whose corrections all named deleted tags, with no sentiment, says
    nothing about today's taxonomy and gives None rather than a row of negatives.
    """
    live = {t.tag for t in labels.tags if t.tag in taxonomy}
    if not live and labels.sentiment is None and labels.tags:
        return None
    tags = frozenset(taxonomy.close(set(labels.added & live)))
    tag_sentiments = tuple((t.tag, t.sentiment) for t in labels.tags if t.tag in tags and t.sentiment is not None)
    return Record(id=labels.comment_id, text=labels.text, tags=tags, sentiment=labels.sentiment,
                  account=labels.account_id, tag_sentiments=tag_sentiments)


def correction_records(store: Store, taxonomies: Mapping[str, Taxonomy]) -> list[Record]:
    """One Record per corrected comment of every account, in the store's order."""
    records = []
    for account in store.accounts():
        taxonomy = taxonomies.get(account) or store.taxonomy(account)
        for labels in store.label_states(account):
            record = comment_record(labels, taxonomy)
            if record is not None:
                records.append(record)
    return records


def replace_seed(seed: Mapping[str, Sequence[Record]],
                 corrected: Sequence[Record]) -> tuple[dict[str, list[Record]], list[Record]]:
    """Let default-account corrections overrule the seed corpus.

    A corrected default comment whose text equals a seed comment's takes that seed record's
    place, in the seed record's split, since the correction is the latest truth. Returns
    the seed splits after replacement and the corrections that replaced nothing.
    """
    by_text = {r.text.strip(): r for r in corrected if r.account == DEFAULT_ACCOUNT}
    used: set[str] = set()
    replaced: dict[str, list[Record]] = {}
    for split, records in seed.items():
        replaced[split] = []
        for record in records:
            correction = by_text.get(record.text.strip()) if record.account == DEFAULT_ACCOUNT else None
            if correction is None:
                replaced[split].append(record)
            elif correction.text.strip() not in used:
                used.add(correction.text.strip())
                replaced[split].append(correction)
            # A second seed record with the same text is dropped: the correction stands for both.
    rest = [r for r in corrected if not (r.account == DEFAULT_ACCOUNT and r.text.strip() in used)]
    return replaced, rest


def as_corrections(records: Iterable[Record], actor: str, start: datetime) -> list[Correction]:
    """Replay labelled records as ADD corrections (the inverse of `comment_record`).

    Each tag becomes one ADD, with the record's own sentiment for that tag if it has one; the
    comment's sentiment rides on the first of them, or on a
    sentiment-only correction when the record has no tags. A record with neither cannot be
    expressed as corrections and is skipped. Times step by a microsecond from `start` so the
    replay has a stable order; correction ids are derived from `actor`, so replaying the
    same records again is idempotent.
    """
    out: list[Correction] = []
    for record in records:
        tags: Sequence[str] = sorted(record.tags) or ([""] if record.sentiment else [])
        own = dict(record.tag_sentiments)
        for i, tag in enumerate(tags):
            out.append(Correction(
                correction_id=f"{actor}:{record.account}:{record.id}:{tag or 'sentiment'}",
                account_id=record.account, comment_id=record.id, text=record.text, tag=tag,
                action=Action.ADD if tag else None, predicted_by_model=False,
                sentiment=record.sentiment if i == 0 else None, actor=actor,
                time=start + timedelta(microseconds=len(out)), tag_sentiment=own.get(tag)))
    return out
