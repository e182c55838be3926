"""The heads-only path's pieces: the embedding cache and the cache-fed stand-in for the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verbatim.models.predictor import Predictor
from verbatim.training.heads_only import EmbeddingCache, HeadsConfig, encoder_version, lookup_artifact

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
