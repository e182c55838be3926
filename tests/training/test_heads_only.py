"""The heads-only path's pieces: the embedding cache and the cache-fed stand-in for the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import ACME_ACCOUNT, ACME_TAXONOMY
from verbatim.models.predictor import Predictor
from verbatim.training.corpus import Record
from verbatim.training.heads_only import (EmbeddingCache, HeadsConfig, encoder_version, lookup_artifact,
                                          refit_with_dev, train_heads)

TEXTS = ["The Slack integration keeps crashing", "Support answered within minutes", "fine", "Way too expensive"]


def test_cache_computes_each_text_once_and_survives_a_corrupt_file(tmp_path: Path, tiny_predictor: Predictor) -> None:
    cache = EmbeddingCache(tmp_path, tiny_predictor.artifact)
    first = cache.embed(TEXTS)
    assert cache.computed == 4 and first.shape == (4, 32)
    again = EmbeddingCache(tmp_path, tiny_predictor.artifact).embed([TEXTS[2], TEXTS[0], "new text"])
    assert np.allclose(again[:2], first[[2, 0]], atol=1e-6)
    cache.embed(TEXTS + ["new text"])
    assert cache.computed == 0
    cache.path.write_bytes(b"not a zip")
    assert np.allclose(cache.embed(TEXTS), first, atol=1e-6) and cache.computed == 4
    (tmp_path / "v-old.npz").write_bytes(b"")
    cache.prune()
    assert [p.name for p in tmp_path.iterdir()] == [f"{encoder_version(tiny_predictor.meta)}.npz"]


def test_lookup_artifact_scores_like_the_encoder(tmp_path: Path, tiny_predictor: Predictor) -> None:
    vectors = EmbeddingCache(tmp_path, tiny_predictor.artifact).embed(TEXTS)
    from_cache = Predictor(lookup_artifact(tiny_predictor.artifact, TEXTS, vectors)).scores(TEXTS)
    direct = tiny_predictor.scores(TEXTS)
    assert np.allclose(from_cache.themes, direct.themes, atol=1e-5)
    assert np.allclose(from_cache.sentiment, direct.sentiment, atol=1e-5)


def test_heads_config_validates_itself() -> None:
    for kwargs, field in (({"epochs": 0}, "epochs"), ({"lr": 0}, "lr"), ({"max_pos_weight": 0.5}, "max_pos_weight"),
                          ({"dropout": 1.0}, "dropout")):
        with pytest.raises(ValueError, match=f"HeadsConfig.{field}"):
            HeadsConfig(**kwargs)


def _records(prefix: str, tags: frozenset[str], n: int) -> list[Record]:
    return [Record(id=f"{prefix}{i}", text=f"{prefix} {i}", tags=tags, sentiment="negative", account=ACME_ACCOUNT)
            for i in range(n)]


def test_refit_with_dev_learns_the_dev_comments_and_keeps_what_dev_chose(tiny_predictor: Predictor) -> None:
    # Exports appears in dev only: heads fitted on train never saw a positive, the refit has.
    rng = np.random.default_rng(0)
    train = [*_records("report", frozenset({"Reporting"}), 12), *_records("app", frozenset({"Mobile app"}), 12)]
    dev = _records("export", frozenset({"Reporting", "Exports"}), 6)
    centres = {"report": rng.normal(size=32), "app": rng.normal(size=32), "export": rng.normal(size=32)}
    vectors = np.stack([centres[r.text.split()[0]] + 0.1 * rng.normal(size=32) for r in [*train, *dev]])
    vectors = vectors.astype(np.float32)
    taxonomies = {ACME_ACCOUNT: ACME_TAXONOMY}
    champion = tiny_predictor.artifact
    tuned = train_heads(champion, train, dev, vectors[:len(train)], taxonomies, HeadsConfig(), "v-test")
    column = tuned.meta.labels.index(ACME_ACCOUNT, "Exports")
    tuned.meta.thresholds = [0.3] * len(tuned.meta.labels)  # what tune_heads would have chosen on dev
    tuned.meta.rule_thresholds = [0.2] * len(tuned.meta.labels)

    refit = refit_with_dev(tuned, champion, train, dev, vectors, taxonomies, HeadsConfig())

    def exports_probability(artifact_net: torch.nn.Module) -> np.ndarray:
        with torch.no_grad():
            logits = artifact_net.heads(torch.from_numpy(vectors[len(train):]))[0]
        return torch.sigmoid(logits[:, column]).numpy()

    assert (exports_probability(tuned.net) < 0.5).all()
    assert (exports_probability(refit.net) > 0.5).all()
    assert refit.meta.thresholds == tuned.meta.thresholds and refit.meta.rule_thresholds == tuned.meta.rule_thresholds
    assert refit.meta.tag_counts == tuned.meta.tag_counts
    assert refit.meta.version == "v-test" and refit.meta.training_config["refit_with_dev"] is True
