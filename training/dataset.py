"""Records to tensors: token ids, masked multi-label targets, sentiment classes and the
sentiment class of each tag a comment carries."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from verbatim.models.labels import LabelSpace
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.models.types import SENTIMENT_LABELS
from verbatim.training.corpus import Record

IGNORE = -100


@dataclass(frozen=True)
class TrainingSet:
    token_ids: list[list[int]]
    targets: np.ndarray  # [n, labels] 0/1
    mask: np.ndarray  # [n, labels] 1 where the label is known for that comment
    sentiment: np.ndarray  # [n] class index, IGNORE when unknown
    tag_sentiment: np.ndarray  # [n, labels] class index of the comment's sentiment about the tag, else IGNORE

    def __len__(self) -> int:
        return len(self.token_ids)


def build_training_set(records: Sequence[Record], labels: LabelSpace, token_ids: list[list[int]],
                       seed_ids: frozenset[str] = frozenset()) -> TrainingSet:
    """A record's account columns are all known: its tags are positives, the rest negatives.

    Columns of other accounts stay masked, so an account's tags learn only from its comments.
    Default-account records in `seed_ids` came from the seed corpus unreviewed since, so they
    were labelled against the seed taxonomy only: a default tag added later stays masked for them.
    """
    targets = np.zeros((len(records), len(labels)), dtype=np.float32)
    mask = np.zeros_like(targets)
    tag_sentiment = np.full(targets.shape, IGNORE, dtype=np.int64)
    columns = {account: labels.indices(account) for account in labels.accounts}
    added_later = {c for c in columns.get(DEFAULT_ACCOUNT, []) if labels.labels[c][1] not in DEFAULT_TAXONOMY}
    for i, record in enumerate(records):
        from_seed = record.account == DEFAULT_ACCOUNT and record.id in seed_ids
        for column in columns.get(record.account, []):
            if from_seed and column in added_later:
                continue
            mask[i, column] = 1.0
            tag = labels.labels[column][1]
            targets[i, column] = float(tag in record.tags)
            if (label := record.tag_sentiment(tag)) is not None:
                tag_sentiment[i, column] = SENTIMENT_LABELS.index(label)
    sentiment = np.array([SENTIMENT_LABELS.index(r.sentiment) if r.sentiment else IGNORE for r in records])
    return TrainingSet(token_ids=token_ids, targets=targets, mask=mask, sentiment=sentiment,
                       tag_sentiment=tag_sentiment)


def length_bucketed_batches(data: TrainingSet, batch_size: int, rng: random.Random,
                            rows: Sequence[int] | None = None) -> list[list[int]]:
    """Batches of similar length (less padding), in random order; jitter varies them per epoch.
    `rows`: the rows to batch (default: every one)."""
    keyed = sorted(range(len(data)) if rows is None else rows,
                   key=lambda i: len(data.token_ids[i]) + rng.uniform(0, 8))
    batches = [keyed[i:i + batch_size] for i in range(0, len(keyed), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(data: TrainingSet, batch: list[int], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(data.token_ids[i]) for i in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, i in enumerate(batch):
        ids = data.token_ids[i]
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
    return {
        "input_ids": input_ids,
        "attention_mask": attention,
        "targets": torch.from_numpy(data.targets[batch]),
        "mask": torch.from_numpy(data.mask[batch]),
        "sentiment": torch.from_numpy(data.sentiment[batch]).long(),
        "tag_sentiment": torch.from_numpy(data.tag_sentiment[batch]),
    }


def iterate(data: TrainingSet, batches: list[list[int]], pad_id: int) -> Iterator[dict[str, torch.Tensor]]:
    for batch in batches:
        yield collate(data, batch, pad_id)
