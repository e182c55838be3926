"""The heads-only path of a retrain (DESIGN §5): the texts' embeddings by the champion's encoder
and, for the accounts that may choose it, by the original encoder, both cached under
`<registry>/cache`; heads trained and judged on them; and, after a full retrain, the new
champion's cache warmed so that the next heads-only run takes seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from verbatim.models.artifact import Artifact
from verbatim.models.labels import LabelSpace
from verbatim.models.original_encoder import OriginalColumns
from verbatim.models.registry import Registry
from verbatim.training.corpus import Record, themed_accounts
from verbatim.training.dataset import build_training_set
from verbatim.training.distributed import Runtime
from verbatim.training.embedding_cache import original_artifact
from verbatim.training.embedding_lookup import lookup_artifact
from verbatim.training.heads_only import (EmbeddingCache, HeadsConfig, candidate_accounts, fit_original,
                                          refit_heads, stack, train_heads, tune_heads)
from verbatim.training.holdout import Splits
from verbatim.training.logistic_heads import single_label_columns
from verbatim.training.retrain_ranks import Leader, embed_together
from verbatim.training.retrain_report import RetrainReport

if TYPE_CHECKING:
    from verbatim.training.retrain import Clock, RetrainConfig

CACHE_DIR = "cache"


@dataclass(frozen=True)
class HeadsOnlyChallenger:
    """The heads fitted on train + dev; the artifacts that stand for them and for the champion in
    judging, reading the cache instead of the encoders; and `with_heldout`, the same heads fitted
    again with some held-out comments too, once the gate has judged them."""

    challenger: Artifact
    judged: Artifact
    incumbent: Artifact
    with_heldout: Callable[[Sequence[Record]], Artifact]


def heads_only_challenger(registry: Registry, champion: Artifact, splits: Splits, taxonomies: Mapping,
                          config: RetrainConfig, version: str, report: RetrainReport, clock: Clock, runtime: Runtime,
                          leader: Leader) -> HeadsOnlyChallenger:
    """Train heads on cached embeddings; the judged artifacts read the same cache, not the encoder.

    The texts not cached yet are embedded on `runtime.device`, by every rank under torchrun."""
    cache = EmbeddingCache(registry.root / CACHE_DIR, champion, runtime.device)
    cache.prune()
    texts = sorted({r.text for r in (*splits.train, *splits.dev, *splits.heldout)})
    with leader.together():
        vectors = dict(zip(texts, embed_together(cache, texts, runtime)))
    report.dataset["texts_embedded"] = cache.computed
    clock.lap("embed", report, f"{cache.computed} of {len(texts)} texts not cached")
    original = _original_vectors(registry, champion, splits, config.heads, report, runtime)
    if original is not None:
        clock.lap("embed_original", report, f"{report.dataset['texts_embedded_original']} texts not cached")

    def original_of(records: Sequence[Record]) -> np.ndarray | None:
        return stack(original, records) if original is not None else None

    def refit(tuned: Artifact, records: Sequence[Record], added: str, accounts: set[str] | None = None) -> Artifact:
        return refit_heads(tuned, champion, records, stack(vectors, records), taxonomies, config.heads, added,
                           splits.seed_ids, original_of(records), accounts)

    challenger = train_heads(champion, splits.train, splits.dev, stack(vectors, splits.train), taxonomies,
                             config.heads, version, splits.seed_ids, original_of(splits.train))
    tune_heads(challenger, splits.dev, stack(vectors, splits.dev), original_of(splits.dev))
    if splits.dev:
        challenger = refit(challenger, [*splits.train, *splits.dev], "dev")
    clock.lap("train", report)
    texts, heldout = [r.text for r in splits.heldout], (stack(vectors, splits.heldout), original_of(splits.heldout))
    return HeadsOnlyChallenger(challenger, lookup_artifact(challenger, texts, *heldout),
                               lookup_artifact(champion, texts, *heldout),
                               lambda extra: refit(challenger, [*splits.train, *splits.dev, *extra], "heldout",
                                                   {r.account for r in extra}))


@dataclass(frozen=True)
class OriginalSide:
    """What a full retrain reads from the original encoder (original_side): the columns of the
    accounts chosen, in the full model's label space, the figures that chose them, and every
    text's embedding by that encoder (zero for texts of accounts that may not choose it)."""

    columns: OriginalColumns
    choice: dict
    vectors: dict[str, np.ndarray]

    @property
    def accounts(self) -> frozenset[str]:
        return frozenset(account for account, figures in self.choice.items() if figures["encoder"] == "original")

    def learn(self, artifact: Artifact, records: Sequence[Record], accounts: set[str], heads: HeadsConfig) -> list[str]:
        """Once the gate has passed `artifact`, fit the original-encoder columns of `accounts` again
        on their `records` (train, dev and held-out), keeping the temperatures dev chose, as the quick
        path and training.train.learn_single_label do for theirs. Returns the accounts refitted."""
        meta = artifact.meta
        chosen = sorted(set(accounts) & set(meta.original_accounts))
        if not chosen or artifact.original is None:
            return []
        rows = [r for r in records if r.account in chosen]
        columns = [c for a in chosen for c in meta.labels.indices(a)]
        data = build_training_set(rows, meta.labels, [[] for _ in rows])
        groups = single_label_columns(meta.labels, meta.taxonomies, meta.tag_counts)
        single = [[columns.index(c) for c in group] for group in groups if group[0] in columns]
        themes = meta.calibration.get("themes", {})
        fit_original(artifact.original, torch.from_numpy(stack(self.vectors, rows)),
                     torch.from_numpy(data.targets[:, columns]), torch.from_numpy(data.mask[:, columns]), heads, single,
                     artifact.original.rows_of(columns),
                     torch.tensor([themes.get(meta.labels.labels[c][0], {}).get("temperature", 1.0) for c in columns]))
        return chosen


def original_side(registry: Registry, champion: Artifact | None, splits: Splits, taxonomies: Mapping,
                  heads: HeadsConfig, labels: LabelSpace, version: str, report: RetrainReport,
                  runtime: Runtime) -> OriginalSide | None:
    """For a full retrain: the accounts the quick path would read from the original encoder, and
    their columns there, fitted on train; None when it would read none.

    A full retrain fine-tunes one encoder on every account's comments. An account far from the
    survey corpora learns less from it than from the original encoder: on the shipped model,
    BANKING77 at 16 examples per tag scored 0.823 on its held-out slice from the fine-tuned
    encoder and 0.851 from the original one, which the quick path already read it from, so a
    full retrain undid what a quick one had taught. The choice is made before the epochs, on the
    champion's embeddings (cached), which have not seen the comments."""
    if champion is None or heads.original_encoder != "auto":
        return None
    candidates = set(candidate_accounts(themed_accounts(splits.train)))
    records = [r for r in splits.train if r.account in candidates]
    original = _original_vectors(registry, champion, splits, heads, report, runtime) if records else None
    if original is None:
        return None
    cache = EmbeddingCache(registry.root / CACHE_DIR, champion, runtime.device)
    texts = sorted({r.text for r in records})
    vectors = dict(zip(texts, cache.embed(texts)))
    quick = train_heads(champion, records, [], stack(vectors, records), taxonomies, heads, version, splits.seed_ids,
                        stack(original, records))
    if quick.original is None:
        return None
    quick.original.columns = [labels.index(*quick.meta.labels.labels[c]) for c in quick.original.columns]
    return OriginalSide(quick.original, quick.meta.training_config["encoder_choice"], original)


def _original_vectors(registry: Registry, champion: Artifact, splits: Splits, heads: HeadsConfig,
                      report: RetrainReport, runtime: Runtime) -> dict[str, np.ndarray] | None:
    """Every text's embedding by the original encoder, for the heads-only path to choose from
    (training.encoder_choice) and to judge a champion that reads some accounts from it: computed
    for the comments of the accounts that may, zero for the others (never read from it). None
    when no account may and the champion reads none."""
    records = [*splits.train, *splits.dev, *splits.heldout]
    accounts = set(candidate_accounts(themed_accounts(records)))
    candidates = {r.text for r in records if r.account in accounts}
    if champion.original is None and (heads.original_encoder != "auto" or not candidates):
        return None
    # Rank 0 alone: a few texts per run once the cache is warm, while the others wait at the barrier.
    cache = EmbeddingCache(registry.root / CACHE_DIR, original_artifact(champion), runtime.device)
    texts = sorted(candidates)
    vectors = dict(zip(texts, cache.embed(texts)))
    report.dataset["texts_embedded_original"] = cache.computed
    zero = np.zeros(cache.artifact.net.encoder.config.hidden_size, dtype=np.float32)
    return {r.text: vectors.get(r.text, zero) for r in records}


def warm_cache(registry: Registry, champion: Artifact, splits: Splits, report: RetrainReport, clock: Clock) -> None:
    """Embed every text with the new champion now, so the next heads-only run takes seconds."""
    try:
        cache = EmbeddingCache(registry.root / CACHE_DIR, champion)
        cache.prune()
        cache.embed(sorted({r.text for r in (*splits.train, *splits.dev, *splits.heldout)}))
    except OSError as exc:  # only a speed-up: the promotion stands
        report.reasons.append(f"the embedding cache was not written: {exc}")
    clock.lap("cache", report)
