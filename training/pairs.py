"""Contrastive pairs for accounts with few comments, before the supervised epochs (SetFit-style).

With a few dozen comments a tag's head sees each positive only a handful of times, and the
default account's seed corpus steers the encoder. Pairs drawn from a small account's own
comments (same tag: pulled together, no shared tag: pushed apart) reshape the embedding
first, so the heads start from neighbourhoods that already follow the account's tags.
Measured on SemEval restaurants at 16 examples per tag (65 comments, the champion's
encoder, then the usual 8 epochs): micro-F1 0.638 without the pairs, 0.674 with them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from verbatim.models.encoder import PreTrainedModel, PreTrainedTokenizerBase
from verbatim.models.network import mean_pool
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record

Pair = tuple[str, str, float]  # text, text, target cosine similarity


def account_pairs(records: Sequence[Record], config: TrainingConfig, rng: random.Random) -> list[Pair]:
    """Shuffled pairs from each account with fewer than `pair_max_comments` training comments.

    Each comment gets, per round, one partner sharing a tag (target 1) and one sharing none
    (target 0); an account stops at `pair_budget` pairs. Larger accounts get none: their
    supervised epochs alone do better.
    """
    by_account: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_account[record.account].append(record)
    pairs: list[Pair] = []
    for account in sorted(by_account):
        rows = by_account[account]
        if len(rows) >= config.pair_max_comments:
            continue
        partners = [(record, [r for r in rows if r is not record and r.tags & record.tags],
                     [r for r in rows if not r.tags & record.tags]) for record in rows if record.tags]
        mine: list[Pair] = []
        for _ in range(config.pair_rounds):
            for record, same, other in partners:
                if same:
                    mine.append((record.text, rng.choice(same).text, 1.0))
                if other:
                    mine.append((record.text, rng.choice(other).text, 0.0))
        pairs += mine[:config.pair_budget]
    rng.shuffle(pairs)
    return pairs


def contrast(encoder: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, pairs: Sequence[Pair],
             config: TrainingConfig, progress: bool = True) -> None:
    """Train the encoder so the cosine similarity of each pair's mean-pooled embeddings meets its target."""
    if not pairs:
        return
    trainable = [p for p in encoder.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.pair_lr, weight_decay=config.weight_decay)
    device = trainable[0].device if trainable else torch.device("cpu")

    def embed(texts: list[str]) -> torch.Tensor:
        batch = tokenizer(texts, padding=True, truncation=True, max_length=config.max_length,
                          return_tensors="pt").to(device)
        hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return mean_pool(hidden, batch["attention_mask"])

    encoder.train()
    for start in tqdm(range(0, len(pairs), config.batch_size), desc="pairs", unit="batch", disable=not progress):
        chunk = pairs[start:start + config.batch_size]
        similarity = F.cosine_similarity(embed([p[0] for p in chunk]), embed([p[1] for p in chunk]))
        loss = F.mse_loss(similarity, torch.tensor([p[2] for p in chunk], device=device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad()
