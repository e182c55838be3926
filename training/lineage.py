"""Which corrected comments a model learned from, its own and those of the models it grew from.

An account is split into train, dev and held-out comments only from 200 comments on
(training.holdout); before that, every comment is trained on. So when an account crosses
that line, some of its new held-out comments were learned by the champion, or by an earlier
model whose encoder it kept, and judging on them flatters the champion. In a heads-only
benchmark run, the challenger at 64 examples per tag was rejected on that account (0.7395
vs 0.8264 on 41 held-out comments) although logistic regression on the same 278 examples
reaches 0.77 on the test split, against the champion's 0.65.

So the retrain job writes this record beside each artifact it trains, and leaves out of
judging the held-out comments the champion learned from. Seed-corpus comments are not
recorded: the seed test split is never trained on. An artifact without the file (trained
before it existed) is taken to have learned nothing recorded, so nothing is left out.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from verbatim.training.corpus import Record

LINEAGE_FILE = "trained_comments.json"

Learned = dict[str, set[str]]  # account -> comment ids


def read_learned(artifact_dir: Path | None) -> Learned:
    """The comments the artifact in `artifact_dir` learned from; empty when it has no record."""
    if artifact_dir is None:
        return {}
    try:
        data = json.loads((artifact_dir / LINEAGE_FILE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{artifact_dir / LINEAGE_FILE} is unreadable ({exc}); delete it to judge on every "
                         "held-out comment") from exc
    return {account: set(ids) for account, ids in data.items()}


def write_learned(artifact_dir: Path, learned: Mapping[str, set[str]]) -> None:
    (artifact_dir / LINEAGE_FILE).write_text(json.dumps({a: sorted(ids) for a, ids in sorted(learned.items())}))


def learned_from(records: Iterable[Record], seed_ids: frozenset[str], inherited: Mapping[str, set[str]]) -> Learned:
    """`inherited` plus every non-seed record (train and dev comments both shaped the model)."""
    learned: Learned = defaultdict(set)
    for account, ids in inherited.items():
        learned[account] |= ids
    for record in records:
        if record.id not in seed_ids:
            learned[record.account].add(record.id)
    return dict(learned)


def unseen(heldout: Mapping[str, list[Record]], learned: Mapping[str, set[str]]) -> tuple[dict[str, list[Record]],
                                                                                            dict[str, int]]:
    """Each account's held-out records the champion never learned from (an account left with none
    is dropped), and per account how many were left out."""
    kept: dict[str, list[Record]] = {}
    left_out: dict[str, int] = {}
    for account, records in heldout.items():
        seen = learned.get(account, set())
        fresh = [r for r in records if r.id not in seen]
        if fresh:
            kept[account] = fresh
        if len(fresh) < len(records):
            left_out[account] = len(records) - len(fresh)
    return kept, left_out
