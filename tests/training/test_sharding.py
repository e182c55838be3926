"""A global batch split across ranks gives, once averaged as DistributedDataParallel averages,
the gradient of one process's loss over the whole batch."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from verbatim.training.dataset import IGNORE, TrainingSet, collate
from verbatim.training.distributed import Runtime
from verbatim.training.sharding import ShareOfBatch


def _data(n: int = 11, labels: int = 4, seed: int = 0) -> TrainingSet:
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, labels)) < 0.7).astype(np.float32)
    sentiment = rng.integers(0, 3, n)
    sentiment[rng.random(n) < 0.4] = IGNORE
    tag_sentiment = rng.integers(0, 3, (n, labels))
    tag_sentiment[rng.random((n, labels)) < 0.6] = IGNORE
    return TrainingSet(token_ids=[[1 + i % 5] * (1 + i % 3) for i in range(n)],
                       targets=(rng.random((n, labels)) < 0.5).astype(np.float32), mask=mask, sentiment=sentiment,
                       tag_sentiment=tag_sentiment)


def _logits(batch: dict[str, torch.Tensor], w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Themes [n, 4], sentiment [n, 3] and tag sentiment [n, 4, 3] as linear functions of `w` [1, 19]."""
    logits = batch["input_ids"].float().sum(1, keepdim=True) @ w
    return logits[:, :4], logits[:, 4:7], logits[:, 7:].reshape(-1, 4, 3)


def _gradient(data: TrainingSet, share: ShareOfBatch, weight: torch.Tensor) -> torch.Tensor:
    w = weight.clone().requires_grad_(True)
    batch = collate(data, share.rows, pad_id=0)
    share.loss(_logits(batch, w), batch, sentiment_weight=0.5, tag_sentiment_weight=0.25).backward()
    return w.grad


def test_the_mean_of_the_ranks_gradients_is_the_whole_batch_gradient() -> None:
    data, weight = _data(), torch.randn(1, 19, generator=torch.Generator().manual_seed(1)) / 10
    batch = list(range(11))
    # The one-process loss written out here, independently of ShareOfBatch: a mean over known cells each.
    w = weight.clone().requires_grad_(True)
    whole = collate(data, batch, pad_id=0)
    themes, sentiment, tags = _logits(whole, w)
    theme = F.binary_cross_entropy_with_logits(themes, whole["targets"], reduction="none")
    known = whole["tag_sentiment"] != IGNORE
    loss = (theme * whole["mask"]).sum() / whole["mask"].sum() \
        + 0.5 * F.cross_entropy(sentiment, whole["sentiment"], ignore_index=IGNORE) \
        + 0.25 * F.cross_entropy(tags[known], whole["tag_sentiment"][known])
    loss.backward()
    for world in (2, 3):
        grads = [_gradient(data, ShareOfBatch.of(data, batch, Runtime(rank=r, world_size=world)), weight)
                 for r in range(world)]
        assert torch.allclose(torch.stack(grads).mean(0), w.grad, rtol=1e-4, atol=1e-6), world


def test_a_rank_with_no_rows_joins_with_a_zero_gradient() -> None:
    data = _data()
    share = ShareOfBatch.of(data, [5], Runtime(rank=1, world_size=2))
    assert share.rows == [5] and share.weight == 0.0
    assert torch.count_nonzero(_gradient(data, share, torch.ones(1, 19))) == 0


def test_one_process_keeps_the_whole_batch_and_the_original_loss() -> None:
    data = _data()
    share = ShareOfBatch.of(data, [3, 1, 4], Runtime())
    assert share.rows == [3, 1, 4] and share.world_size == 1
