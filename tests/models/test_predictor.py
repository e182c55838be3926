"""Predictor.decide: each tag carries the sentiment of its own column, a rule-only tag the comment's."""

from __future__ import annotations

import numpy as np
import pytest

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import Tag, Taxonomy

SHOP = Taxonomy((Tag("Usability"), Tag("Price"), Tag("Packaging", keywords=("box",))))


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    encoder, tokenizer = tiny_random_encoder(seed=1)
    trained = Taxonomy(SHOP.tags[:2])  # Packaging was added after training: no column
    labels = LabelSpace.from_taxonomies({"shop": trained.names})
    meta = ArtifactMeta.untuned("v-test", labels, {"shop": trained})
    artifact = Artifact(meta, ThemeSentimentNet(encoder, num_labels=len(labels)), tokenizer)
    return Predictor(artifact).with_taxonomies({"shop": SHOP})


def test_each_tag_reads_its_own_sentiment_column(predictor: Predictor) -> None:
    themes = np.array([0.9, 0.8], dtype=np.float32)  # Usability, Price
    sentiment = np.array([0.3, 0.3, 0.4], dtype=np.float32)
    tag_sentiment = np.array([[0.05, 0.05, 0.9], [0.7, 0.2, 0.1]], dtype=np.float32)
    prediction = predictor.decide("love the app, hate the new price, the box was fine", "shop",
                                  themes, sentiment, tag_sentiment)
    by_name = {t.name: t for t in prediction.tags}
    assert by_name["Usability"].sentiment.label == "positive"
    assert by_name["Usability"].sentiment.score == pytest.approx(0.85)
    assert by_name["Price"].sentiment.label == "negative"
    assert by_name["Price"].sentiment.probabilities == pytest.approx({"negative": 0.7, "neutral": 0.2,
                                                                      "positive": 0.1})
    # Packaging has no column: added by its keyword, it says what the comment says
    assert by_name["Packaging"].sentiment == prediction.sentiment


def test_scores_give_a_sentiment_per_label_that_sums_to_one(predictor: Predictor) -> None:
    scores = predictor.scores(["love the app", "hate the price and the box"])
    assert scores.tag_sentiment.shape == (2, 2, 3)
    np.testing.assert_allclose(scores.tag_sentiment.sum(2), 1.0, atol=1e-5)
    # a fresh network's tag offsets are zero: each tag says what its comment says until trained
    np.testing.assert_allclose(scores.tag_sentiment, np.repeat(scores.sentiment[:, None, :], 2, 1), atol=1e-6)
