"""Which encoder the quick path should read an account's tags from: the champion's or the original.

Neither wins everywhere. On SemEval restaurant comments, close to the survey corpora, the
champion's fine-tuned encoder gives the better linear head (0.722 against 0.690 micro-F1 at
16 examples per tag); on BANKING77's banking intents the original does (0.870 against 0.843).
So each account's own examples decide, by k-fold cross-validation of the same logistic heads
on each encoder's embeddings. The original encoder costs a second forward pass for the
account's comments, so it must win outright: a tie keeps the champion's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import torch

from verbatim.models.labels import LabelSpace
from verbatim.training.logistic_heads import fit_theme_block

FOLDS = 3
MIN_ROWS = 2 * FOLDS  # fewer known comments than this: no estimate, keep the champion's encoder
# Cross-validation on a random sample of at most this many of an account's comments, so that
# the choice stays a few seconds for thousands of comments (a 77-way softmax: about 7 s a fit on
# 5,000 comments on 2 cores).
MAX_ROWS = 1500


def cross_validated_f1(x: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, single_label: bool, c: float,
                       single_label_c: float, folds: int = FOLDS, seed: int = 13) -> float:
    """Micro-F1 over the known cells of held-out folds (a single-label account: accuracy of its
    top tag), of heads fitted on the other folds. Every row of the inputs has a known cell."""
    rows = list(range(len(x)))
    random.Random(seed).shuffle(rows)
    groups = [list(range(targets.shape[1]))] if single_label else []
    tp = fp = fn = 0.0
    for fold in range(folds):
        held = torch.tensor(rows[fold::folds])
        kept = torch.tensor([r for i, r in enumerate(rows) if i % folds != fold])
        weight, bias = fit_theme_block(x[kept], targets[kept], mask[kept], c, single_label_c, groups)
        logits = x[held].float() @ weight.T + bias
        if single_label:
            gold = (targets[held] * mask[held]).argmax(1)
            hits = float((logits.argmax(1) == gold).sum())
            tp, fp, fn = tp + hits, fp + len(held) - hits, fn + len(held) - hits
            continue
        predicted, gold, known = (logits >= 0).float(), targets[held], mask[held]
        tp += float((predicted * gold * known).sum())
        fp += float((predicted * (1 - gold) * known).sum())
        fn += float(((1 - predicted) * gold * known).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


def original_accounts(champion_x: torch.Tensor, original_x: torch.Tensor, targets: torch.Tensor,
                      mask: torch.Tensor, labels: LabelSpace, candidates: Iterable[str],
                      single_label: Sequence[list[int]], c: float, single_label_c: float) -> dict[str, dict]:
    """For each candidate account, the cross-validated micro-F1 on each encoder and the choice:
    {account: {"champion": f1, "original": f1, "encoder": "original" | "champion"}}."""
    grouped = {tuple(columns) for columns in single_label}
    choices: dict[str, dict] = {}
    for account in sorted(candidates):
        columns = labels.indices(account)
        rows = mask[:, columns].sum(1) > 0
        if int(rows.sum()) < MIN_ROWS:
            choices[account] = {"encoder": "champion", "reason": f"fewer than {MIN_ROWS} corrected comments"}
            continue
        rows = torch.nonzero(rows).squeeze(1)
        if len(rows) > MAX_ROWS:
            rows = rows[torch.randperm(len(rows), generator=torch.Generator().manual_seed(13))[:MAX_ROWS]]
        block = (targets[rows][:, columns], mask[rows][:, columns], tuple(columns) in grouped, c, single_label_c)
        scores = {name: round(cross_validated_f1(x[rows], *block), 4)
                  for name, x in (("champion", champion_x), ("original", original_x))}
        choices[account] = scores | {"encoder": "original" if scores["original"] > scores["champion"] else "champion"}
    return choices
