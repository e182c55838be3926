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
    return TrainingSet(token_ids=[[1 + i % 5] * (1 + i % 3) for i in range(n)],
                       targets=(rng.random((n, labels)) < 0.5).astype(np.float32), mask=mask, sentiment=sentiment)


def _gradient(data: TrainingSet, share: ShareOfBatch, weight: torch.Tensor) -> torch.Tensor:
    w = weight.clone().requires_grad_(True)
    batch = collate(data, share.rows, pad_id=0)
    features = batch["input_ids"].float().sum(1, keepdim=True) * torch.ones(1, 7)
    logits = features @ w
    share.loss(logits[:, :4], logits[:, 4:], batch, sentiment_weight=0.5).backward()
    return w.grad


def test_the_mean_of_the_ranks_gradients_is_the_whole_batch_gradient() -> None:
    data, weight = _data(), torch.randn(7, 7, generator=torch.Generator().manual_seed(1))
    batch = list(range(11))
    # The one-process loss written out here, independently of ShareOfBatch.
    w = weight.clone().requires_grad_(True)
    whole = collate(data, batch, pad_id=0)
    logits = (whole["input_ids"].float().sum(1, keepdim=True) * torch.ones(1, 7)) @ w
    theme = F.binary_cross_entropy_with_logits(logits[:, :4], whole["targets"], reduction="none")
    loss = (theme * whole["mask"]).sum() / whole["mask"].sum() \
        + 0.5 * F.cross_entropy(logits[:, 4:], whole["sentiment"], ignore_index=IGNORE)
    loss.backward()
    for world in (2, 3):
        grads = [_gradient(data, ShareOfBatch.of(data, batch, Runtime(rank=r, world_size=world)), weight)
                 for r in range(world)]
        assert torch.allclose(torch.stack(grads).mean(0), w.grad, rtol=1e-4, atol=1e-6), world


def test_a_rank_with_no_rows_joins_with_a_zero_gradient() -> None:
    data = _data()
    share = ShareOfBatch.of(data, [5], Runtime(rank=1, world_size=2))
    assert share.rows == [5] and share.weight == 0.0
    assert torch.count_nonzero(_gradient(data, share, torch.ones(7, 7))) == 0


def test_one_process_keeps_the_whole_batch_and_the_original_loss() -> None:
    data = _data()
    share = ShareOfBatch.of(data, [3, 1, 4], Runtime())
    assert share.rows == [3, 1, 4] and share.world_size == 1
