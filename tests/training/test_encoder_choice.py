"""The quick path's choice of encoder per account, by cross-validation on the account's own examples."""

from __future__ import annotations

import torch

from verbatim.models.labels import LabelSpace
from verbatim.training.encoder_choice import MIN_ROWS, cross_validated_f1, original_accounts

LABELS = LabelSpace((("bank", "Fees"), ("bank", "Cards"), ("shop", "Fees"), ("shop", "Cards")))


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows 0..n-1 of bank, n..2n-1 of shop, one tag each: `informative` embeddings separate the
    tags along one axis, `noise` are unrelated to them."""
    generator = torch.Generator().manual_seed(seed)
    tag = torch.arange(2 * n) % 2
    informative = torch.randn(2 * n, 16, generator=generator) * 0.3
    informative[:, 0] += tag * 4 - 2
    noise = torch.randn(2 * n, 16, generator=generator)
    targets = torch.zeros(2 * n, 4)
    mask = torch.zeros(2 * n, 4)
    for i in range(2 * n):
        first = 0 if i < n else 2
        targets[i, first + int(tag[i])] = 1
        mask[i, first:first + 2] = 1
    return informative, noise, targets, mask


def test_the_encoder_whose_embeddings_separate_the_tags_is_chosen() -> None:
    informative, noise, targets, mask = _data(30)
    chosen = original_accounts(noise, informative, targets, mask, LABELS, ["bank", "shop"], [], 1.0, 10.0)
    assert {a: v["encoder"] for a, v in chosen.items()} == {"bank": "original", "shop": "original"}
    assert chosen["bank"]["original"] > 0.9 > 0.75 > chosen["bank"]["champion"]
    kept = original_accounts(informative, noise, targets, mask, LABELS, ["bank"], [], 1.0, 10.0)
    assert kept["bank"]["encoder"] == "champion" and "shop" not in kept


def test_a_tie_keeps_the_champion_and_too_few_examples_decide_nothing() -> None:
    informative, _, targets, mask = _data(30)
    tie = original_accounts(informative, informative.clone(), targets, mask, LABELS, ["bank"], [], 1.0, 10.0)
    assert tie["bank"]["encoder"] == "champion" and tie["bank"]["original"] == tie["bank"]["champion"]
    few = MIN_ROWS - 1
    informative, noise, targets, mask = _data(few)
    chosen = original_accounts(noise, informative, targets, mask, LABELS, ["bank"], [], 1.0, 10.0)
    assert chosen["bank"]["encoder"] == "champion" and "fewer than" in chosen["bank"]["reason"]


def test_a_single_label_account_is_scored_by_its_top_tag() -> None:
    informative, noise, targets, mask = _data(30)
    rows = slice(0, 30)
    single = cross_validated_f1(informative[rows], targets[rows, :2], mask[rows, :2], True, 1.0, 10.0)
    assert single == 1.0  # the classes lie 4 apart along one axis, each 0.3 wide
    chance = cross_validated_f1(noise[rows], targets[rows, :2], mask[rows, :2], True, 1.0, 10.0)
    assert chance < 0.8
