"""The default model: trained on the seed corpus, evaluated on its test split, promoted."""

from __future__ import annotations

import time

from verbatim.models.registry import Registry, new_version
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import fingerprint, seed_split
from verbatim.training.evaluate import evaluate
from verbatim.training.distributed import LOCAL, Runtime
from verbatim.training.train import EncoderFactory, help_train, train
from verbatim.models.encoder import load_base_encoder
from verbatim.models.predictor import Predictor


def train_default_model(registry: Registry, config: TrainingConfig = TrainingConfig(),
                        encoder_factory: EncoderFactory = load_base_encoder, progress: bool = True,
                        promote: bool = True, runtime: Runtime = LOCAL) -> str | None:
    """Train on seed train, tune on seed dev, report on seed test; returns the new version.

    Under torchrun every rank calls it: each reads the seed corpus (in the package) and trains
    on its share of the batches; rank 0 alone evaluates, saves and promotes, once every rank
    has finished the epochs. The other ranks return None.
    """
    taxonomies = {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}
    train_records, dev_records, test_records = (seed_split(s, DEFAULT_TAXONOMY) for s in ("train", "dev", "test"))
    if not runtime.is_main:
        help_train(train_records, taxonomies, config, encoder_factory, frozenset(), runtime)
        runtime.barrier()
        return None
    version = new_version(fingerprint([*train_records, *dev_records]))
    started = time.monotonic()
    artifact = train(train_records, dev_records, taxonomies, config, version, encoder_factory, progress,
                     runtime=runtime)
    runtime.barrier()  # a rank that died mid-epoch fails the run here at the latest: nothing is saved
    artifact.meta.evaluation = {
        "seed_test": evaluate(Predictor(artifact), test_records, DEFAULT_ACCOUNT),
        "training_seconds": round(time.monotonic() - started, 1),
        "train_comments": len(train_records),
        "dev_comments": len(dev_records),
    }
    with registry.stage(version) as directory:
        artifact.save(directory)
    if promote:
        registry.promote(version)
    return version
