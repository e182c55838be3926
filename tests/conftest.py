"""Shared fixtures: a tiny random-weight model in a registry, built once per session."""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

from verbatim.models.encoder import tiny_random_encoder  # noqa: E402
from verbatim.models.predictor import Predictor  # noqa: E402
from verbatim.models.registry import Registry, new_version  # noqa: E402
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy  # noqa: E402
from verbatim.training.config import TrainingConfig  # noqa: E402
from verbatim.training.corpus import Record  # noqa: E402
from verbatim.training.evaluate import evaluate  # noqa: E402
from verbatim.training.train import train  # noqa: E402

# A second account with its own tags, so tests can mix accounts in one batch.
ACME_ACCOUNT = "acme"
ACME_TAXONOMY = Taxonomy((
    Tag("Reporting", description="Dashboards and reports.", keywords=("report", "reports", "dashboard")),
    Tag("Mobile app", description="The iOS and Android apps.", keywords=("mobile", "app", "ios", "android")),
    Tag("Exports", parent="Reporting", description="CSV and PDF exports.", keywords=("export", "csv", "pdf")),
))

_DEFAULT_COMMENTS = [
    ("The Slack integration keeps crashing", {"Slack", "Bug"}, "negative"),
    ("Support answered within minutes, great team", {"Support"}, "positive"),
    ("Way too expensive for what it does", {"Price"}, "negative"),
    ("Pages take forever to load", {"Performance"}, "negative"),
    ("The docs are outdated and confusing", {"Documentation", "Usability"}, "negative"),
    ("Please add a dark mode", {"Feature request"}, "neutral"),
    ("Salesforce sync works perfectly", {"Salesforce"}, "positive"),
    ("We are switching to a competitor next month", {"Competition"}, "negative"),
    ("Setup took our team two days", {"Implementation"}, "neutral"),
    ("Love how intuitive the interface is", {"Usability"}, "positive"),
    ("HubSpot contacts never show up", {"HubSpot", "Bug"}, "negative"),
    ("Zendesk tickets link nicely", {"Zendesk"}, "positive"),
    ("Intercom chat widget is broken again", {"Intercom", "Bug"}, "negative"),
    ("fine", set(), "neutral"),
    ("Great product overall", set(), "positive"),
    ("The pricing page is unclear", {"Price"}, "neutral"),
    ("Our account manager is fantastic", {"Support"}, "positive"),
    ("Outage last week cost us a day", {"Performance"}, "negative"),
]
_ACME_COMMENTS = [
    ("The weekly report is always late", {"Reporting"}, "negative"),
    ("CSV export drops half the columns", {"Exports"}, "negative"),
    ("The mobile app is snappy", {"Mobile app"}, "positive"),
    ("Dashboard looks great", {"Reporting"}, "positive"),
    ("Android app logs me out", {"Mobile app"}, "negative"),
    ("PDF export is perfect", {"Exports"}, "positive"),
]


def _records(split: str) -> list[Record]:
    records = []
    for account, comments, taxonomy in ((DEFAULT_ACCOUNT, _DEFAULT_COMMENTS, DEFAULT_TAXONOMY),
                                        (ACME_ACCOUNT, _ACME_COMMENTS, ACME_TAXONOMY)):
        for i, (text, tags, sentiment) in enumerate(comments):
            records.append(Record(id=f"{split}-{account}-{i}", text=text if split == "train" else f"{text}!",
                                  tags=frozenset(taxonomy.close(tags)), sentiment=sentiment, account=account))
    return records


@pytest.fixture(scope="session")
def tiny_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A registry whose champion is a tiny random-weight model for accounts `default` and `acme`."""
    registry = Registry(tmp_path_factory.mktemp("registry"))
    taxonomies = {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, ACME_ACCOUNT: ACME_TAXONOMY}
    config = TrainingConfig(epochs=1, batch_size=8, threads=2, max_length=64, pair_rounds=0)  # pairs: test_pairs
    version = new_version("tiny")
    started = time.monotonic()
    artifact = train(_records("train"), _records("dev"), taxonomies, config, version,
                     encoder_factory=tiny_random_encoder, progress=False)
    test = [r for r in _records("test") if r.account == DEFAULT_ACCOUNT]
    artifact.meta.evaluation = {"seed_test": evaluate(Predictor(artifact), test, DEFAULT_ACCOUNT),
                                "training_seconds": round(time.monotonic() - started, 1)}
    with registry.stage(version) as directory:
        artifact.save(directory)
    registry.promote(version)
    return registry


@pytest.fixture(scope="session")
def tiny_predictor(tiny_registry: Registry) -> Predictor:
    path = tiny_registry.champion_path()
    assert path is not None
    return Predictor.load(Path(path))
