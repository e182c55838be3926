"""Weight averaging with the original encoder, and training that ends with it."""

from __future__ import annotations

import pytest
import torch

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.training.config import TrainingConfig
from verbatim.training.corpus import Record
from verbatim.training.interpolation import interpolate
from verbatim.training.train import train


def test_each_weight_moves_toward_the_anchor_by_the_given_share() -> None:
    tuned, _ = tiny_random_encoder(seed=1)
    anchor, _ = tiny_random_encoder(seed=2)
    before = {n: p.detach().clone() for n, p in tuned.named_parameters()}
    interpolate(tuned, anchor, 0.25)
    for name, parameter in tuned.named_parameters():
        expected = 0.25 * before[name] + 0.75 * dict(anchor.named_parameters())[name]
        assert torch.allclose(parameter, expected, atol=1e-6), name
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        interpolate(tuned, anchor, 1.5)


def test_training_with_no_fine_tuned_share_ends_on_the_original_encoder() -> None:
    texts = [("The app crashes on login", {"Bug"}), ("Too expensive for us", {"Price"}),
             ("Support answered in minutes", {"Support"}), ("It freezes when I export", {"Bug"}),
             ("The price went up again", {"Price"}), ("Great help from the support team", {"Support"})]
    records = [Record(f"r{i}", text, frozenset(tags), "negative", account=DEFAULT_ACCOUNT)
               for i, (text, tags) in enumerate(texts * 3)]
    config = TrainingConfig(epochs=2, batch_size=4, max_length=32, threads=1, pair_rounds=0, interpolation=0.0)
    artifact = train(records, [], {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}, config, "v-test",
                     encoder_factory=tiny_random_encoder, progress=False)
    original, _ = tiny_random_encoder()
    for name, parameter in artifact.net.encoder.named_parameters():
        assert torch.equal(parameter, dict(original.named_parameters())[name]), name
    # The heads were refitted on that encoder: the training comments come out with their tags.
    predicted = [p.tag_names for p in Predictor(artifact).predict([t for t, _ in texts], DEFAULT_ACCOUNT)]
    assert sum(p == tags for p, (_, tags) in zip(predicted, texts)) >= 4
