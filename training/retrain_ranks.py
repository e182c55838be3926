"""A retrain under torchrun: rank 0 decides, the other ranks lend their hands.

Rank 0 alone takes the retrain lock, reads the store, checks whether there is anything new,
evaluates the gate, writes the artifact, the report and the registry. The others only ever
hear from it, in this order:

1. a `Plan` (broadcast): what to train, on which records, from which encoder; or nothing;
2. the work, together: the epochs of the full path, or the embeddings the heads-only cache
   lacks, each rank embedding its share;
3. a barrier, which rank 0 passes only just before it stages and promotes: a rank that died
   at any point before it makes the barrier fail on rank 0, whose run then fails and
   promotes nothing. After the barrier the others exit 0 and rank 0 finishes alone.

A rank that dies during the work breaks the process group; torchrun then stops every other
rank (SIGTERM, raised as training.distributed.Terminated so rank 0 writes its failure report
and releases the lock) and the job fails. Rank 0 never sends a message after a failure
inside the work, where the others may be waiting in a different collective.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from verbatim.models.artifact import Artifact
from verbatim.models.taxonomy import Taxonomy
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record
from verbatim.training.distributed import Runtime
from verbatim.training.embedding_cache import EmbeddingCache, encode_texts
from verbatim.training.train import EncoderFactory, help_train
from verbatim.training.warm_start import artifact_encoder, freezing

FULL, HEADS_ONLY = "full", "heads-only"


@dataclass(frozen=True)
class Plan:
    """What rank 0 asks of the others, once it holds the lock and has read the data."""

    mode: str | None = None  # FULL, HEADS_ONLY, or None: nothing to do (busy, nothing new, an error)
    train: Sequence[Record] = ()
    taxonomies: dict[str, Taxonomy] = field(default_factory=dict)
    training: TrainingConfig | None = None
    seed_ids: frozenset[str] = frozenset()
    warm_from: str | None = None  # full path: the artifact directory whose encoder to continue from
    frozen_layers: int | None = None
    champion: str | None = None  # heads-only: the champion's directory, whose encoder embeds
    apart: frozenset[str] = frozenset()  # full path: accounts read from the original encoder, left out of training


class Leader:
    """Rank 0's side: sends the plan and passes the barrier exactly once each, and only while the
    other ranks can be listening. In one process every step is a no-op."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._planned = self._released = self._broken = False

    def plan(self, plan: Plan) -> None:
        if self.runtime.distributed and not self._planned:
            self.runtime.broadcast(plan)
        self._planned = True

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """Work in collectives with the others; a failure inside leaves them in one, so nothing more is sent."""
        try:
            yield
        except BaseException:
            self._broken = True
            raise

    def release(self) -> None:
        """The barrier: every rank is still alive. Call before promoting, and once more at the end of a run."""
        if not self.runtime.distributed or self._released or self._broken:
            return
        self.plan(Plan())
        self._released = True
        self.runtime.barrier()


def follow(encoder_factory: EncoderFactory, runtime: Runtime) -> None:
    """A rank other than 0: do what rank 0's plan asks, then meet it at the barrier."""
    plan: Plan = runtime.broadcast(None)
    if plan.mode == FULL:
        assert plan.training is not None
        factory = artifact_encoder(Path(plan.warm_from)) if plan.warm_from else encoder_factory
        help_train(plan.train, plan.taxonomies, plan.training, freezing(factory, plan.frozen_layers), plan.seed_ids,
                   runtime, plan.apart)
    elif plan.mode == HEADS_ONLY:
        assert plan.champion is not None
        champion = Artifact.load(Path(plan.champion))
        _embed_share(lambda texts: encode_texts(champion, texts, device=runtime.device), runtime)
    runtime.barrier()


def embed_together(cache: EmbeddingCache, texts: Sequence[str], runtime: Runtime) -> np.ndarray:
    """Rank 0: `cache.embed(texts)`, the texts it lacks embedded by every rank, each its share."""
    if not runtime.distributed:
        return cache.embed(texts)
    missing = cache.missing(texts)
    runtime.broadcast(missing)
    cache.add(missing, _gathered(cache.encode, missing, runtime))
    vectors = cache.embed(texts)
    cache.computed = len(missing)
    return vectors


def _embed_share(encode: Callable[[Sequence[str]], np.ndarray], runtime: Runtime) -> None:
    missing: list[str] = runtime.broadcast(None)
    _gathered(encode, missing, runtime)


def _gathered(encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], runtime: Runtime) -> np.ndarray:
    """Every rank encodes its share of `texts`; rank 0 gets all the rows back in order."""
    parts = runtime.gather(encode(runtime.shard(texts)))
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.zeros((len(texts), parts[0].shape[1]), dtype=np.float32)
    for rank, part in enumerate(parts):
        out[rank::runtime.world_size] = part
    return out
