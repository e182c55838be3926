"""Fine-tune the encoder and both heads, then tune per-tag thresholds on dev.

Reads top to bottom: data -> pairs (small accounts) -> network -> optimiser -> epochs -> thresholds -> artifact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import PreTrainedModel, PreTrainedTokenizerBase, load_base_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.predictor import Predictor
from verbatim.models.rules import KeywordRules
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.thresholds import tune_thresholds
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record, fingerprint
from verbatim.training.dataset import IGNORE, build_training_set, iterate, length_bucketed_batches
from verbatim.training.interpolation import interpolate
from verbatim.training.logistic_heads import SINGLE_LABEL_C, fit_heads, single_label_columns
from verbatim.training.pairs import account_pairs, contrast
from verbatim.training.tag_counts import choose_on_dev, learn_tag_counts

EncoderFactory = Callable[[], tuple[PreTrainedModel, PreTrainedTokenizerBase]]


def train(train_records: Sequence[Record], dev_records: Sequence[Record], taxonomies: dict[str, Taxonomy],
          config: TrainingConfig, version: str, encoder_factory: EncoderFactory = load_base_encoder,
          progress: bool = True, seed_ids: frozenset[str] = frozenset(),
          anchor_factory: EncoderFactory | None = None) -> Artifact:
    """Train a model on `train_records` and tune its thresholds on `dev_records`.

    Small accounts' comments first reshape the encoder through contrastive pairs (training.pairs).
    After the epochs the encoder is averaged with `anchor_factory`'s (default: `encoder_factory`'s,
    the original weights) and the heads are refitted on it (config.interpolation).

    `seed_ids`: default-account records straight from the seed corpus (see build_training_set).
    """
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.num_threads)

    # Data: one head output per tag of every account that has training comments.
    encoder, tokenizer = encoder_factory()
    accounts = sorted({r.account for r in train_records})
    labels = LabelSpace.from_taxonomies({a: taxonomies[a].names for a in accounts})
    token_ids = tokenizer([r.text for r in train_records], truncation=True,
                          max_length=config.max_length)["input_ids"]
    data = build_training_set(train_records, labels, token_ids, seed_ids)
    contrast(encoder, tokenizer, account_pairs(train_records, config, rng), config, progress)

    # Network and optimiser: the encoder learns slowly, the fresh heads quickly.
    net = ThemeSentimentNet(encoder, num_labels=len(labels), dropout=config.dropout)
    head_params = list(net.theme_head.parameters()) + list(net.sentiment_head.parameters())
    optimizer = torch.optim.AdamW([
        {"params": list(net.encoder.parameters()), "lr": config.encoder_lr},
        {"params": head_params, "lr": config.head_lr},
    ], weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(data) / config.batch_size)
    warmup = max(1, int(steps * config.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))

    # Epochs: masked multi-label BCE for themes plus cross-entropy for sentiment.
    net.train()
    pad_id = tokenizer.pad_token_id or 0
    with tqdm(total=steps, desc="training", unit="batch", disable=not progress) as bar:
        for epoch in range(config.epochs):
            for batch in iterate(data, length_bucketed_batches(data, config.batch_size, rng), pad_id):
                theme_logits, sentiment_logits = net(batch["input_ids"], batch["attention_mask"])
                theme_loss = F.binary_cross_entropy_with_logits(theme_logits, batch["targets"], reduction="none")
                theme_loss = (theme_loss * batch["mask"]).sum() / batch["mask"].sum().clamp(min=1.0)
                loss = theme_loss
                if (batch["sentiment"] != IGNORE).any():
                    loss = loss + config.sentiment_weight * F.cross_entropy(
                        sentiment_logits, batch["sentiment"], ignore_index=IGNORE)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                bar.update(1)
                bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}")
    net.eval()

    # Weight averaging with the original encoder, then heads that fit the averaged one.
    tag_counts = learn_tag_counts(train_records, taxonomies)
    if config.interpolation < 1:
        interpolate(net.encoder, (anchor_factory or encoder_factory)()[0], config.interpolation)
        fit_heads(net, pooled_embeddings(net, token_ids, pad_id), torch.from_numpy(data.targets), torch.from_numpy(data.mask),
                  torch.from_numpy(data.sentiment).long(), config.head_c, SINGLE_LABEL_C,
                  single_label_columns(labels, taxonomies, tag_counts))

    # Thresholds, then the self-describing artifact.
    meta = ArtifactMeta.untuned(
        version,
        labels,
        {a: taxonomies[a] for a in accounts},
        max_length=config.max_length,
        training_config=config.to_dict(),
        data_fingerprint=fingerprint([*train_records, *dev_records]),
        tag_counts=tag_counts,
    )
    artifact = Artifact(meta=meta, net=net, tokenizer=tokenizer)
    tune_on_dev(artifact, dev_records)
    return artifact


def pooled_embeddings(net: ThemeSentimentNet, token_ids: Sequence[Sequence[int]], pad_id: int,
                      batch_size: int = 64) -> torch.Tensor:
    """[n, hidden] pooled embeddings of the encoded texts by `net`'s encoder, in length-sorted batches."""
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    out = torch.zeros(len(token_ids), net.encoder.config.hidden_size)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            width = max(len(token_ids[i]) for i in chunk)
            input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, i in enumerate(chunk):
                input_ids[row, :len(token_ids[i])] = torch.tensor(token_ids[i])
                attention[row, :len(token_ids[i])] = 1
            out[chunk] = net.embed(input_ids, attention)
    return out


def tune_on_dev(artifact: Artifact, dev_records: Sequence[Record]) -> None:
    """Set each account's thresholds and rule thresholds, then its TagCount, from its dev comments."""
    meta = artifact.meta
    dev = [r for r in dev_records if r.account in meta.taxonomies]
    if not dev:
        return
    scores = Predictor(artifact).scores([r.text for r in dev])
    for account in meta.labels.accounts:
        rows = [i for i, r in enumerate(dev) if r.account == account]
        if not rows:
            continue
        columns = meta.labels.indices(account)
        tags = meta.labels.tags(account)
        rules = KeywordRules(meta.taxonomies[account])
        truth = np.array([[tag in dev[i].tags for tag in tags] for i in rows])
        hits = [rules.match(dev[i].text) for i in rows]
        rule_hits = np.array([[tag in h for tag in tags] for h in hits])
        thresholds, rule_thresholds = tune_thresholds(scores.themes[np.ix_(rows, columns)], truth, rule_hits)
        for column, t, r in zip(columns, thresholds, rule_thresholds):
            meta.thresholds[column] = float(t)
            meta.rule_thresholds[column] = float(r)
    choose_on_dev(artifact, dev, scores)
