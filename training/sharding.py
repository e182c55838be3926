"""A rank's share of a global batch, and the loss that makes the ranks' averaged gradients those
of the whole batch.

torch's DistributedSampler deals out single examples from a shuffled index; training here
batches by length (less padding) with its own seeded shuffle, so instead every rank draws the
same global batches and takes every world_size-th row of each. A global batch of B rows thus
costs each of N ranks B/N rows, and one step sees the same B comments as one process would.

The loss of a share is normalised by the global batch's counts (known cells, known sentiments)
and multiplied by N, because DistributedDataParallel averages the ranks' gradients: their mean
is then exactly the gradient of the one-process loss over the global batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from verbatim.training.dataset import IGNORE, TrainingSet
from verbatim.training.distributed import Runtime


@dataclass(frozen=True)
class ShareOfBatch:
    """The rows of one global batch that this rank computes, and how its loss is normalised."""

    rows: list[int]
    world_size: int = 1
    known_cells: float = 0.0  # of the global batch: theme cells with a label, sentiments with a class
    known_sentiments: int = 0
    known_tag_sentiments: int = 0
    weight: float = 1.0  # 0 for a rank whose share is empty: it still joins the gradient sync

    @classmethod
    def of(cls, data: TrainingSet, batch: list[int], runtime: Runtime) -> ShareOfBatch:
        if not runtime.distributed:
            return cls(batch)
        rows = runtime.shard(batch)
        weight = 1.0
        if not rows:  # the last batch of an epoch can be smaller than the world
            rows, weight = batch[:1], 0.0
        return cls(rows, runtime.world_size, float(data.mask[batch].sum()),
                   int((data.sentiment[batch] != IGNORE).sum()), int((data.tag_sentiment[batch] != IGNORE).sum()),
                   weight)

    def loss(self, logits: tuple[torch.Tensor, torch.Tensor, torch.Tensor], batch: dict[str, torch.Tensor],
             sentiment_weight: float, tag_sentiment_weight: float) -> torch.Tensor:
        """Masked multi-label BCE for themes plus cross-entropy for known sentiments, of the
        comment and of each tag it carries."""
        theme_logits, sentiment_logits, tag_sentiment_logits = logits
        theme_loss = F.binary_cross_entropy_with_logits(theme_logits, batch["targets"], reduction="none")
        sentiments = ((sentiment_logits, batch["sentiment"], sentiment_weight, self.known_sentiments),
                      (tag_sentiment_logits.reshape(-1, tag_sentiment_logits.shape[-1]),
                       batch["tag_sentiment"].reshape(-1), tag_sentiment_weight, self.known_tag_sentiments))
        if self.world_size == 1:  # one process: the mean over the batch's known cells and classes
            loss = (theme_loss * batch["mask"]).sum() / batch["mask"].sum().clamp(min=1.0)
            for predicted, gold, weight, _ in sentiments:
                if weight and (gold != IGNORE).any():
                    loss = loss + weight * F.cross_entropy(predicted, gold, ignore_index=IGNORE)
            return loss
        scale = self.world_size * self.weight
        loss = (theme_loss * batch["mask"]).sum() * (scale / max(self.known_cells, 1.0))
        for predicted, gold, weight, known in sentiments:
            if weight and known:
                summed = F.cross_entropy(predicted, gold, ignore_index=IGNORE, reduction="sum")
                loss = loss + weight * summed * (scale / known)
        return loss
