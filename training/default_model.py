"""The default model: every industry's default account (the SaaS seed corpus for the default
account, models.industries for the others) trained into one artifact with the sentiment-only
comments of other businesses, evaluated on each test split, promoted."""

from __future__ import annotations

import time

from verbatim.models.industries import DEFAULT_INDUSTRY, INDUSTRY_TAXONOMIES, template_account, template_taxonomies
from verbatim.models.registry import Registry, new_version
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import SPLITS, Record, fingerprint, general_split, industry_split
from verbatim.training.evaluate import evaluate
from verbatim.training.distributed import LOCAL, Runtime
from verbatim.training.train import EncoderFactory, help_train, train
from verbatim.models.encoder import load_base_encoder
from verbatim.models.predictor import Predictor


def train_default_model(registry: Registry, config: TrainingConfig = TrainingConfig(),
                        encoder_factory: EncoderFactory = load_base_encoder, progress: bool = True,
                        promote: bool = True, runtime: Runtime = LOCAL) -> str | None:
    """Train on every industry's train split, tune on dev, report on test; returns the new version.

    Under torchrun every rank calls it: each reads the seed corpus (in the package) and trains
    on its share of the batches; rank 0 alone evaluates, saves and promotes, once every rank
    has finished the epochs. The other ranks return None.
    """
    taxonomies = template_taxonomies()
    train_records, dev_records, test_records = (industry_corpora(split) for split in SPLITS)
    train_records += general_split("train")  # other businesses' comments: sentiment only
    if not runtime.is_main:
        help_train(train_records, taxonomies, config, encoder_factory, frozenset(), runtime)
        runtime.barrier()
        return None
    version = new_version(fingerprint([*train_records, *dev_records]))
    started = time.monotonic()
    artifact = train(train_records, dev_records, taxonomies, config, version, encoder_factory, progress,
                     runtime=runtime)
    runtime.barrier()  # a rank that died mid-epoch fails the run here at the latest: nothing is saved
    industries = evaluate_industries(Predictor(artifact), test_records)
    artifact.meta.evaluation = {
        "seed_test": industries[DEFAULT_INDUSTRY],
        "industries": industries,
        "training_seconds": round(time.monotonic() - started, 1),
        "train_comments": len(train_records),
        "dev_comments": len(dev_records),
    }
    with registry.stage(version) as directory:
        artifact.save(directory)
    if promote:
        registry.promote(version)
    return version


def evaluate_industries(predictor: Predictor, records: list[Record]) -> dict[str, dict]:
    """The evaluation report of each industry's template account on its records among `records`."""
    return {industry: evaluate(predictor, [r for r in records if r.account == template_account(industry)],
                               template_account(industry)) for industry in INDUSTRY_TAXONOMIES}


def industry_corpora(split: str) -> list[Record]:
    """One split of every industry's corpus, each as records of its template account."""
    return [r for industry in INDUSTRY_TAXONOMIES for r in industry_split(industry, split)]
