"""Each account's TagCount (models.tag_count): learned from its training comments, then
loosened where that does better on its dev comments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from verbatim.models.artifact import Artifact
from verbatim.models.industries import GENERAL_ACCOUNT
from verbatim.models.predictor import Predictor, Scores
from verbatim.models.tag_count import MIN_COMMENTS, TagCount, learn_tag_count
from verbatim.models.taxonomy import Taxonomy
from verbatim.training.corpus import Record
from verbatim.training.evaluate import theme_report

DEV_GAIN = 0.01  # dev micro-F1 a looser option must add before it overrides what the labels show


def learn_tag_counts(records: Sequence[Record], taxonomies: Mapping[str, Taxonomy]) -> dict[str, TagCount]:
    """The bounds each account's labelled comments keep to; accounts with none are left out."""
    tag_sets: dict[str, list[frozenset[str]]] = defaultdict(list)
    for r in records:
        if r.account != GENERAL_ACCOUNT:  # no taxonomy: sentiment only
            tag_sets[r.account].append(r.tags)
    learned = {account: learn_tag_count(taxonomies[account], sets) for account, sets in tag_sets.items()}
    return {account: count for account, count in learned.items() if count != TagCount()}


def choose_on_dev(artifact: Artifact, dev: Sequence[Record], scores: Scores) -> None:
    """Keep each account's learned TagCount, unless a looser option beats it on dev micro-F1 by DEV_GAIN.

    `scores` are the artifact's outputs for `dev`, in order; thresholds must be tuned already.
    Accounts with fewer than MIN_COMMENTS dev comments keep what they learned.
    """
    meta = artifact.meta
    for account, learned in list(meta.tag_counts.items()):
        rows = [i for i, r in enumerate(dev) if r.account == account]
        if len(rows) < MIN_COMMENTS:
            continue

        def dev_f1(count: TagCount) -> float:
            meta.tag_counts[account] = count
            predictor = Predictor(artifact)
            predicted = [predictor.decide(dev[i].text, account, *scores.row(i)).tag_names
                         for i in rows]
            return theme_report([dev[i].tags for i in rows], predicted, meta.labels.tags(account))["micro_f1"]

        scored = [(dev_f1(count), count) for count in learned.options()]
        best_f1, best = max(scored, key=lambda pair: pair[0])  # the strictest wins a tie
        meta.tag_counts[account] = best if best_f1 > scored[0][0] + DEV_GAIN else learned
