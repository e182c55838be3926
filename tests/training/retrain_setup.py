"""The retrain tests' tiny accounts, config and registry-plus-store setup (fixtures in conftest.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record
from verbatim.training.corrections import as_corrections
from verbatim.training.holdout import HoldoutConfig
from verbatim.training.retrain import RetrainConfig

T0 = datetime(2025, 5, 1, tzinfo=timezone.utc)
WORDS = {
    "Cats": "cat kitten meow purr whiskers feline tabby litter".split(),
    "Dogs": "dog puppy bark woof leash canine fetch kennel".split(),
    "Birds": "bird sparrow feather chirp nest wing beak parrot".split(),
    "Fish": "fish trout gill aquarium salmon fin scales reef".split(),
}
TINY = TrainingConfig(epochs=6, batch_size=16, encoder_lr=1e-3, head_lr=1e-2, max_length=32, threads=2)
# Tiny accounts, so hold comments out from 7 on (15 % of 7 >= 1) and judge them on what there is.
CONFIG = RetrainConfig(include_seed=False, encoder_factory=tiny_random_encoder, frozen_layers=None, training=TINY,
                       holdout=HoldoutConfig(min_heldout=1))


def texts_about(tag: str, n: int, seed: int) -> list[str]:
    rng = random.Random(f"{tag}-{seed}")
    return [" ".join(rng.sample(WORDS[tag], 4)) for _ in range(n)]


def labelled(account: str, tags: tuple[str, ...], per_tag: int, seed: int = 0) -> list[Record]:
    return [Record(f"{account}-{tag}-{seed}-{i}", text, frozenset({tag}), None, account=account)
            for tag in tags for i, text in enumerate(texts_about(tag, per_tag, seed))]


def submit(store: Store, records: list[Record]) -> None:
    store.submit_corrections(as_corrections(records, "test", T0))


@dataclass
class Setup:
    registry: Registry
    store_url: str

    def open(self) -> Store:
        return Store(self.store_url)


def retrain_with_nests_held_out(setup: Setup, config: RetrainConfig, nest_only: bool):
    """Retrain once zoo's Birds and Fish comments are stored, its held-out ones rewritten as
    "nest nest twig nest" and tagged Nest too (or Nest alone: `nest_only`), so the heads the gate
    judges never see Nest. Returns (report, the held-out ids, how many)."""
    from verbatim.models.taxonomy import Tag
    from verbatim.training.holdout import split_corrections
    from verbatim.training.retrain import retrain

    records = labelled("zoo", ("Birds", "Fish"), 10, seed=5)
    held = {r.id for r in split_corrections(records, config.holdout).heldout}
    nests = [Record(r.id, "nest nest twig nest", frozenset({"Nest"}) if nest_only else r.tags | {"Nest"}, None,
                    account="zoo") for r in records if r.id in held]
    with setup.open() as store:
        store.put_tags("zoo", [Tag("Birds"), Tag("Fish"), Tag("Nest")])
        submit(store, [r for r in records if r.id not in held] + nests)
        report = retrain(store, setup.registry, config, progress=False)
    return report, held, len(nests)
