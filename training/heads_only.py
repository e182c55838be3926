"""The quick path (DESIGN §5): new heads on the champion's frozen encoder, in seconds.

Pooled embeddings are computed once per (champion, text) and cached on disk, so later runs
embed only new comments. The heads train on the cached embeddings with the same masked
loss as the full path. Thresholds and evaluation go through the ordinary Predictor code,
fed from the cache by `lookup_artifact`, so no text is encoded twice.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import frozen_base_encoder
from verbatim.models.industries import TEMPLATE_PREFIX
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.original_encoder import OriginalColumns
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Taxonomy
from verbatim.training.calibration import apply_temperatures
from verbatim.training.corpus import Record, fingerprint, themed_accounts
from verbatim.training.dataset import IGNORE, build_training_set
from verbatim.training.embedding_cache import EmbeddingCache, encode_texts, encoder_version  # noqa: F401 (API)
from verbatim.training.embedding_lookup import lookup_artifact
from verbatim.training.encoder_choice import original_accounts
from verbatim.training.holdout import from_seed_corpora
from verbatim.training.logistic_heads import SINGLE_LABEL_C, fit_heads, fit_theme_block, single_label_columns
from verbatim.training.tag_counts import learn_tag_counts
from verbatim.training.train import tune_on_dev


SOLVERS = ("adam", "lbfgs")
ORIGINAL_ENCODER = ("auto", "never")


@dataclass(frozen=True)
class HeadsConfig:
    """Settings of the heads-only path; validates itself."""

    epochs: int = 30
    # At least this many optimiser steps, so a handful of examples (one batch an epoch) are
    # fitted as far as a large set is, instead of leaving every score near 0.5.
    min_steps: int = 300
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 0.01
    dropout: float = 0.1
    sentiment_weight: float = 1.0
    # Upweights a rare tag's positives (at most this much) so a handful of examples can
    # lift it over the default threshold that small dev sets leave in place.
    max_pos_weight: float = 3.0
    seed: int = 13
    # "lbfgs": the heads are fitted as logistic regression to convergence (training.logistic_heads),
    # with inverse L2 strength `c`; "adam": `epochs` of minibatch AdamW on the masked loss. L-BFGS
    # matched or beat Adam on SemEval and BANKING77 at 8-64 examples per tag (bench.few_shot).
    solver: str = "lbfgs"
    c: float = 1.0
    single_label_c: float = SINGLE_LABEL_C
    # "auto": an account's tags are read from the original encoder when its own examples,
    # cross-validated, say that is better (training.encoder_choice); "never": always the champion's.
    original_encoder: str = "auto"
    # Once the gate has passed the heads fitted on train + dev, fit them again with the account's
    # held-out corrections too, so every correction teaches the promoted model; later runs judge
    # that account on newer held-out comments only (training.lineage). False: keep them unseen.
    # A full retrain follows it too, for the single-label accounts (training.train.learn_single_label).
    learn_heldout: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "min_steps", "batch_size", "lr"):
            if getattr(self, name) <= 0:
                raise ValueError(f"HeadsConfig.{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"HeadsConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.solver not in SOLVERS:
            raise ValueError(f"HeadsConfig.solver must be one of {list(SOLVERS)}, got {self.solver!r}")
        if self.original_encoder not in ORIGINAL_ENCODER:
            raise ValueError(f"HeadsConfig.original_encoder must be one of {list(ORIGINAL_ENCODER)}, "
                             f"got {self.original_encoder!r}")
        if self.c <= 0:
            raise ValueError(f"HeadsConfig.c must be > 0, got {self.c}")
        if self.max_pos_weight < 1:
            raise ValueError(f"HeadsConfig.max_pos_weight must be >= 1, got {self.max_pos_weight}")


def stack(vectors: Mapping[str, np.ndarray], records: Sequence[Record]) -> np.ndarray:
    """The embeddings of the records' texts, row by row."""
    return np.stack([vectors[r.text] for r in records]) if records else np.zeros((0, 0), dtype=np.float32)


def masked_loss(theme_logits: torch.Tensor, sentiment_logits: torch.Tensor, targets: torch.Tensor,
                mask: torch.Tensor, sentiment: torch.Tensor, sentiment_weight: float = 1.0,
                pos_weight: torch.Tensor | None = None) -> torch.Tensor:
    """BCE over known (comment, tag) cells only, plus cross-entropy over known sentiments."""
    theme = F.binary_cross_entropy_with_logits(theme_logits, targets, reduction="none", pos_weight=pos_weight)
    loss = (theme * mask).sum() / mask.sum().clamp(min=1.0)
    if (sentiment != IGNORE).any():
        loss = loss + sentiment_weight * F.cross_entropy(sentiment_logits, sentiment, ignore_index=IGNORE)
    return loss


def train_heads(champion: Artifact, train: Sequence[Record], dev: Sequence[Record], train_embeddings: np.ndarray,
                taxonomies: Mapping[str, Taxonomy], config: HeadsConfig, version: str,
                seed_ids: frozenset[str] = frozenset(), original_embeddings: np.ndarray | None = None,
                original: Collection[str] | None = None, sentiment_head: nn.Linear | None = None) -> Artifact:
    """A new artifact: the champion's encoder, fresh heads over the label space of `train`.

    Heads start from the champion's rows for the (account, tag) pairs it already has. An account
    with nothing new (unchanged_accounts) keeps them as they are, and so does the comment-sentiment
    head when no corrected comment carries a sentiment: on the shipped default model, logistic
    regression refitted on the frozen embeddings served the default account's seed test 0.849
    sentiment accuracy against the fine-tuned head's 0.880, and 0.804 theme micro-F1 against
    0.813, so every quick retrain was rejected. Otherwise the comment-sentiment head is fitted
    too, unless `sentiment_head` is given: it is kept as it is.
    With `original_embeddings` (the train comments' by the original encoder), the accounts in
    `original`, or when it is None those that cross-validation picks (training.encoder_choice),
    have their theme columns read from the original encoder (models.original_encoder).
    Thresholds are left at the default; tune them with `tune_heads`.
    """
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    accounts = themed_accounts(train)
    labels = LabelSpace.from_taxonomies({a: taxonomies[a].names for a in accounts})
    net = ThemeSentimentNet(champion.net.encoder, num_labels=len(labels), dropout=config.dropout)
    with torch.no_grad():
        net.sentiment_head.load_state_dict((sentiment_head or champion.net.sentiment_head).state_dict())
        for column, pair in enumerate(labels.labels):
            if pair in champion.meta.labels.labels:
                _copy_column(net, column, champion.net, champion.meta.labels.index(*pair))

    data = build_training_set(train, labels, [[] for _ in train], seed_ids)
    targets, mask = torch.from_numpy(data.targets), torch.from_numpy(data.mask)
    tag_sentiment = torch.from_numpy(data.tag_sentiment)
    unchanged = [c for a in unchanged_accounts(champion, train, labels, seed_ids) for c in labels.indices(a)]
    mask[:, unchanged], tag_sentiment[:, unchanged] = 0, IGNORE  # nothing fitted: the champion's columns stay
    sentiment = torch.from_numpy(data.sentiment).long()
    if sentiment_head is None and not any(r.sentiment and not from_seed_corpora(r, seed_ids) for r in train):
        sentiment_head = champion.net.sentiment_head  # no new sentiment to learn from: kept, as loaded above
    if sentiment_head is not None:
        sentiment = torch.full_like(sentiment, IGNORE)  # nothing to fit: the head is kept
    embeddings = torch.from_numpy(train_embeddings)
    tag_counts = learn_tag_counts(train, taxonomies)
    single_label = single_label_columns(labels, taxonomies, tag_counts)
    choice: dict[str, dict] = {}
    if original_embeddings is not None and config.original_encoder == "auto":
        x = torch.from_numpy(original_embeddings)
        choice = ({a: {"encoder": "original"} for a in original if a in accounts} if original is not None else
                  original_accounts(embeddings, x, targets, mask, labels, candidate_accounts(accounts), single_label,
                                    config.c, config.single_label_c))
    chosen = sorted(a for a, v in choice.items() if v["encoder"] == "original")
    columns = [c for a in chosen for c in labels.indices(a)]
    module = None
    if chosen:
        module = OriginalColumns(champion.original.encoder if champion.original is not None
                                 else frozen_base_encoder(), columns)
        fit_original(module, x, targets[:, columns], mask[:, columns], config,
                      [[columns.index(c) for c in group] for group in single_label if group[0] in columns])
        mask = mask.clone()
        mask[:, columns] = 0  # served from the original encoder: the champion-side columns are never read
    if config.solver == "lbfgs":
        fit_heads(net, embeddings, targets, mask, sentiment, tag_sentiment, config.c,
                  config.single_label_c, single_label)
        steps = 1
    else:
        steps = _fit_adam(net, embeddings, targets, mask, sentiment, config, rng)
    net.eval()

    meta = ArtifactMeta.untuned(
        version,
        labels,
        {a: taxonomies[a] for a in accounts},
        max_length=champion.meta.max_length,
        training_config={"mode": "heads-only", "base_version": champion.meta.version,
                         "encoder_version": encoder_version(champion.meta),
                         "steps": steps,
                         "heads": asdict(config), "encoder": champion.meta.training_config},
        data_fingerprint=fingerprint([*train, *dev]),
        tag_counts=tag_counts,
        original_accounts=chosen,
    )
    if choice:
        meta.training_config["encoder_choice"] = choice
    return Artifact(meta=meta, net=net, tokenizer=champion.tokenizer, original=module)


def unchanged_accounts(champion: Artifact, train: Sequence[Record], labels: LabelSpace,
                       seed_ids: frozenset[str]) -> list[str]:
    """The accounts of `labels` with nothing new since `champion`: the same tags, and training
    comments all from the seed corpora, unchanged (training.holdout.from_seed_corpora)."""
    changed = {r.account for r in train if not from_seed_corpora(r, seed_ids)}
    return [a for a in labels.accounts
            if a not in changed and set(labels.tags(a)) == set(champion.meta.labels.tags(a))]


def _copy_column(net: ThemeSentimentNet, column: int, source: ThemeSentimentNet, source_column: int) -> None:
    """One label's theme row and per-tag sentiment rows, from `source`'s `source_column` (under no_grad)."""
    width = net.sentiment_head.out_features
    rows = slice(column * width, (column + 1) * width)
    source_rows = slice(source_column * width, (source_column + 1) * width)
    net.theme_head.weight[column] = source.theme_head.weight[source_column]
    net.theme_head.bias[column] = source.theme_head.bias[source_column]
    net.tag_sentiment_head.weight[rows] = source.tag_sentiment_head.weight[source_rows]
    net.tag_sentiment_head.bias[rows] = source.tag_sentiment_head.bias[source_rows]


def candidate_accounts(accounts: Sequence[str]) -> list[str]:
    """Accounts that may be read from the original encoder: not the default or an industry template,
    whose corpora the champion's encoder was fine-tuned on."""
    return [a for a in accounts if a != DEFAULT_ACCOUNT and not a.startswith(TEMPLATE_PREFIX)]


def fit_original(module: OriginalColumns, x: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
                 config: HeadsConfig, single_label: list[list[int]], rows: Sequence[int] | None = None,
                 temperatures: torch.Tensor | None = None) -> None:
    """Rows of `module`'s head (all of them in order, or `rows`) fitted on original-encoder embeddings
    `x` against `targets` [n, len(rows)], each divided by its calibration temperature if given."""
    weight, bias = fit_theme_block(x, targets, mask, config.c, config.single_label_c, single_label)
    if temperatures is not None:
        weight, bias = weight / temperatures.unsqueeze(1), bias / temperatures
    known = mask.sum(0) > 0  # a column with no example keeps what it had (UNSEEN_BIAS: only its keyword rule adds it)
    rows = torch.tensor(list(range(len(module.columns))) if rows is None else list(rows))
    with torch.no_grad():
        module.head.weight[rows[known]] = weight[known]
        module.head.bias[rows[known]] = bias[known]


def _fit_adam(net: ThemeSentimentNet, embeddings: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor,
              sentiment: torch.Tensor, config: HeadsConfig, rng: random.Random) -> int:
    """`epochs` (at least `min_steps` steps) of minibatch AdamW on the masked loss; returns the steps."""
    positives = (targets * mask).sum(0)
    negatives = ((1 - targets) * mask).sum(0)
    pos_weight = (negatives / positives.clamp(min=1.0)).clamp(1.0, config.max_pos_weight)
    heads = [*net.theme_head.parameters(), *net.sentiment_head.parameters()]
    optimizer = torch.optim.AdamW(heads, lr=config.lr, weight_decay=config.weight_decay)
    rows = list(range(len(targets)))
    batches = math.ceil(len(rows) / config.batch_size)
    epochs = max(config.epochs, math.ceil(config.min_steps / max(batches, 1)))
    threads = torch.get_num_threads()
    # Ops this small lose to thread synchronisation; on a busy 2-core CPU, 30x over (100 s vs 3 s).
    torch.set_num_threads(1)
    net.train()
    try:
        for _ in range(epochs):
            rng.shuffle(rows)
            for start in range(0, len(rows), config.batch_size):
                batch = rows[start:start + config.batch_size]
                theme_logits, sentiment_logits, _ = net.heads(embeddings[batch])
                loss = masked_loss(theme_logits, sentiment_logits, targets[batch], mask[batch], sentiment[batch],
                                   config.sentiment_weight, pos_weight)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
    finally:
        torch.set_num_threads(threads)
    return epochs * batches


def tune_heads(artifact: Artifact, dev: Sequence[Record], dev_embeddings: np.ndarray,
               dev_original: np.ndarray | None = None) -> None:
    """tune_on_dev, fed from cached embeddings (and the original encoder's) instead of the encoders."""
    tune_on_dev(lookup_artifact(artifact, [r.text for r in dev], dev_embeddings, dev_original), dev)


def refit_heads(tuned: Artifact, champion: Artifact, records: Sequence[Record], embeddings: np.ndarray,
                taxonomies: Mapping[str, Taxonomy], config: HeadsConfig, added: str,
                seed_ids: frozenset[str] = frozenset(), original_embeddings: np.ndarray | None = None,
                accounts: Collection[str] | None = None) -> Artifact:
    """The heads fitted again on `records` (`tuned`'s training comments plus the `added` split's,
    `embeddings` in that order), keeping the thresholds, tag counts, temperatures and encoder
    choice that `tuned` was given, and its data fingerprint (what "nothing new" compares).

    Once the dev comments have chosen the thresholds, they are examples like the others: an
    account split for the gate loses a quarter of its comments to dev and held-out, which at
    8 examples per tag is 2 of them. Held-out comments are added only after the gate has
    judged the heads fitted without them (training.retrain).

    `accounts`: only these accounts' tag columns and per-tag sentiment are fitted, on their own
    comments; the rest stay `tuned`'s. A tag column depends on its own account's comments
    alone, so the others would come out the same; only the comment-sentiment head, shared by
    every account, would move a little, and it is kept (on the seed corpora and SemEval, a
    whole refit takes 11 s, this one a second).
    """
    if tuned.meta.original_accounts and original_embeddings is None:
        raise ValueError(f"accounts {tuned.meta.original_accounts} are read from the original encoder: "
                         f"pass original_embeddings")
    kept = None
    if accounts is not None:
        rows = [i for i, r in enumerate(records) if r.account in accounts]
        records, embeddings = [records[i] for i in rows], embeddings[rows]
        original_embeddings = None if original_embeddings is None else original_embeddings[rows]
        kept = _unscaled_sentiment_head(tuned)
    refit = train_heads(champion, records, [], embeddings, taxonomies, config, tuned.meta.version, seed_ids,
                        original_embeddings, tuned.meta.original_accounts, kept)
    if not (set(refit.meta.labels.labels) <= set(tuned.meta.labels.labels) if accounts is not None
            else refit.meta.labels == tuned.meta.labels):
        return tuned  # the added comments brought an account that the tuned heads lack; never tuned
    apply_temperatures(refit, tuned.meta.calibration)  # the temperatures dev chose, on the refitted heads
    if accounts is not None:
        refit = _with_columns_of(refit, tuned)
    refit.meta.thresholds = list(tuned.meta.thresholds)
    refit.meta.rule_thresholds = list(tuned.meta.rule_thresholds)
    refit.meta.tag_counts = dict(tuned.meta.tag_counts)
    refit.meta.review_cutoffs = dict(tuned.meta.review_cutoffs)
    refit.meta.calibration = tuned.meta.calibration
    refit.meta.data_fingerprint = tuned.meta.data_fingerprint
    if "encoder_choice" in tuned.meta.training_config:  # the figures that chose, not the refit's echo
        refit.meta.training_config["encoder_choice"] = tuned.meta.training_config["encoder_choice"]
    refit.meta.training_config["refit_with"] = [*tuned.meta.training_config.get("refit_with", []), added]
    return refit


def _unscaled_sentiment_head(tuned: Artifact) -> nn.Linear:
    """`tuned`'s comment-sentiment head before its calibration temperature (apply_temperatures)."""
    t = tuned.meta.calibration.get("sentiment", {}).get("temperature", 1.0)
    head = nn.Linear(tuned.net.sentiment_head.in_features, tuned.net.sentiment_head.out_features)
    with torch.no_grad():
        head.weight.copy_(tuned.net.sentiment_head.weight * t)
        head.bias.copy_(tuned.net.sentiment_head.bias * t)
    return head


def _with_columns_of(part: Artifact, whole: Artifact) -> Artifact:
    """A copy of `whole` (meta, heads, original-encoder head) with the theme columns, per-tag
    sentiment rows and original-encoder rows of `part`'s (account, tag) pairs taken from `part`."""
    net = ThemeSentimentNet(whole.net.encoder, num_labels=len(whole.meta.labels), dropout=whole.net.dropout.p)
    for name in ("theme_head", "sentiment_head", "tag_sentiment_head"):
        getattr(net, name).load_state_dict(getattr(whole.net, name).state_dict())
    net.eval()
    original = None
    if whole.original is not None:
        original = OriginalColumns(whole.original.encoder, whole.original.columns)
        original.head.load_state_dict(whole.original.head.state_dict())
    with torch.no_grad():
        for column, pair in enumerate(part.meta.labels.labels):
            target = whole.meta.labels.index(*pair)
            _copy_column(net, target, part.net, column)
            if pair[0] in part.meta.original_accounts and original is not None and part.original is not None:
                row, source_row = original.rows_of([target])[0], part.original.rows_of([column])[0]
                original.head.weight[row] = part.original.head.weight[source_row]
                original.head.bias[row] = part.original.head.bias[source_row]
    return Artifact(meta=copy.deepcopy(whole.meta), net=net, tokenizer=whole.tokenizer, original=original)
