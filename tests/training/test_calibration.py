"""Temperature scaling, calibration error and the needs_review cut-off."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.taxonomy import Tag, Taxonomy
from verbatim.training.calibration import (apply_temperatures, binary_ece, fit_temperature, review_cutoff,
                                           top_label_ece)


def test_fit_temperature_recovers_the_temperature_that_generated_binary_labels() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 4, 40_000)
    y = rng.random(len(z)) < 1 / (1 + np.exp(-z / 2.5))  # the truth is sigmoid(z / 2.5)
    assert fit_temperature(torch.from_numpy(z), torch.from_numpy(y.astype(float)), binary=True) == \
        pytest.approx(2.5, rel=0.06)


def test_fit_temperature_recovers_a_softmax_temperature_below_one() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, (30_000, 3))
    p = np.exp(z / 0.5) / np.exp(z / 0.5).sum(1, keepdims=True)  # under-confident logits: T = 0.5
    classes = np.array([rng.choice(3, p=row) for row in p])
    assert fit_temperature(torch.from_numpy(z), torch.from_numpy(classes), binary=False) == \
        pytest.approx(0.5, rel=0.06)


def test_binary_ece_by_hand() -> None:
    assert binary_ece(np.full(10, 0.9), np.array([1] * 9 + [0])) == pytest.approx(0.0)
    assert binary_ece(np.full(10, 0.9), np.array([1] * 5 + [0] * 5)) == pytest.approx(0.4)
    # two bins: 0.1 (outcome rate 0.5, off by 0.4) and 0.8 (rate 1.0, off by 0.2), each half the rows
    assert binary_ece(np.array([0.1, 0.1, 0.8, 0.8]), np.array([0, 1, 1, 1])) == pytest.approx(0.3)


def test_top_label_ece_compares_the_top_probability_with_being_right() -> None:
    probabilities = np.array([[0.7, 0.2, 0.1]] * 4)
    assert top_label_ece(probabilities, np.array([0, 0, 0, 1])) == pytest.approx(0.05)


def test_review_cutoff_flags_the_share_asked_for() -> None:
    confidences = list(np.random.default_rng(2).random(200))
    cutoff = review_cutoff(confidences, share=0.15)
    assert sum(c < cutoff for c in confidences) == 30
    assert review_cutoff([]) == 0.0


def test_apply_temperatures_divides_each_heads_logits() -> None:
    encoder, tokenizer = tiny_random_encoder(seed=3)
    taxonomies = {"a": Taxonomy((Tag("x"), Tag("y"))), "b": Taxonomy((Tag("z"),))}
    labels = LabelSpace.from_taxonomies({k: t.names for k, t in taxonomies.items()})
    net = ThemeSentimentNet(encoder, num_labels=len(labels)).eval()
    with torch.no_grad():
        net.tag_sentiment_head.weight.normal_(0, 1, generator=torch.Generator().manual_seed(4))
    artifact = Artifact(ArtifactMeta.untuned("v", labels, taxonomies), net, tokenizer)
    pooled = torch.randn(5, encoder.config.hidden_size, generator=torch.Generator().manual_seed(5))
    themes, sentiment, tags = (x.detach().clone() for x in net.heads(pooled))
    apply_temperatures(artifact, {"themes": {"a": {"temperature": 2.0}}, "sentiment": {"temperature": 4.0},
                                  "tag_sentiment": {"temperature": 0.5}})
    new_themes, new_sentiment, new_tags = net.heads(pooled)
    a, b = labels.indices("a"), labels.indices("b")
    torch.testing.assert_close(new_themes[:, a], themes[:, a] / 2.0)
    torch.testing.assert_close(new_themes[:, b], themes[:, b])  # account b has no temperature
    torch.testing.assert_close(new_sentiment, sentiment / 4.0)
    torch.testing.assert_close(new_tags, tags / 0.5, rtol=1e-4, atol=1e-5)
