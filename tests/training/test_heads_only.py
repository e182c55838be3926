"""The heads-only path's pieces: the embedding cache and the cache-fed stand-in for the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import ACME_ACCOUNT, ACME_TAXONOMY
from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.training.calibration import apply_temperatures
from verbatim.training.corpus import Record
from verbatim.training.embedding_lookup import lookup_artifact
from verbatim.training.heads_only import (EmbeddingCache, HeadsConfig, encoder_version,
                                          refit_heads, train_heads)

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


def test_refit_heads_learns_the_dev_comments_and_keeps_what_dev_chose(tiny_predictor: Predictor) -> None:
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

    refit = refit_heads(tuned, champion, [*train, *dev], vectors, taxonomies, HeadsConfig(), "dev")

    def exports_probability(artifact_net: torch.nn.Module) -> np.ndarray:
        with torch.no_grad():
            logits = artifact_net.heads(torch.from_numpy(vectors[len(train):]))[0]
        return torch.sigmoid(logits[:, column]).numpy()

    assert (exports_probability(tuned.net) < 0.5).all()
    assert (exports_probability(refit.net) > 0.5).all()
    assert refit.meta.thresholds == tuned.meta.thresholds and refit.meta.rule_thresholds == tuned.meta.rule_thresholds
    assert refit.meta.tag_counts == tuned.meta.tag_counts
    assert refit.meta.version == "v-test" and refit.meta.training_config["refit_with"] == ["dev"]
    assert refit.meta.data_fingerprint == tuned.meta.data_fingerprint


def test_refitting_some_accounts_gives_the_whole_refit_in_their_columns_and_keeps_the_rest(
        tiny_predictor: Predictor) -> None:
    # acme's added comments carry per-tag sentiment but no comment sentiment, so a whole refit
    # would leave the shared sentiment head as it was too: the two refits must agree everywhere.
    rng = np.random.default_rng(1)
    zoo = Taxonomy((Tag("Birds"), Tag("Fish")))
    taxonomies = {ACME_ACCOUNT: ACME_TAXONOMY, "zoo": zoo}

    def records(account: str, tags: tuple[str, ...], n: int, start: int, sentiment: str | None) -> list[Record]:
        return [Record(f"{account}-{tag}-{i}", f"{account} {tag} {i}", frozenset({tag}), sentiment, account=account,
                       tag_sentiments=((tag, ("positive", "negative")[i % 2]),))
                for tag in tags for i in range(start, start + n)]

    train = [*records(ACME_ACCOUNT, ("Reporting", "Mobile app"), 10, 0, "neutral"),
             *records("zoo", ("Birds", "Fish"), 10, 0, "positive")]
    added = records(ACME_ACCOUNT, ("Reporting", "Mobile app"), 4, 10, None)
    every = [*train, *added]
    centres = {name: rng.normal(size=32) for name in ("Reporting", "Mobile app", "Birds", "Fish")}
    vectors = np.stack([centres[next(iter(r.tags))] + 0.5 * rng.normal(size=32) for r in every]).astype(np.float32)
    champion = tiny_predictor.artifact
    tuned = train_heads(champion, train, [], vectors[:len(train)], taxonomies, HeadsConfig(), "v-test")
    tuned.meta.calibration = {"sentiment": {"temperature": 2.0}, "tag_sentiment": {"temperature": 1.5},
                              "themes": {ACME_ACCOUNT: {"temperature": 1.3}, "zoo": {"temperature": 0.8}}}
    apply_temperatures(tuned, tuned.meta.calibration)  # as tune_heads leaves it
    before = {name: param.detach().clone() for name, param in tuned.net.named_parameters() if "head" in name}

    whole = refit_heads(tuned, champion, every, vectors, taxonomies, HeadsConfig(), "heldout")
    part = refit_heads(tuned, champion, every, vectors, taxonomies, HeadsConfig(), "heldout", accounts={ACME_ACCOUNT})

    acme, birds = tuned.meta.labels.indices(ACME_ACCOUNT), tuned.meta.labels.indices("zoo")
    with torch.no_grad():  # one L-BFGS run solves all columns, so compare what they serve, not raw weights
        got, want = part.net.heads(torch.from_numpy(vectors)), whole.net.heads(torch.from_numpy(vectors))
    # The per-tag sentiment fit stops at TAG_SENTIMENT_STEPS, short of the optimum either way.
    for name, a, b, tolerance in (("themes", torch.sigmoid(got[0]), torch.sigmoid(want[0]), 2e-3),
                                  ("sentiment", got[1].softmax(-1), want[1].softmax(-1), 2e-3),
                                  ("tag sentiment", got[2].softmax(-1), want[2].softmax(-1), 1e-2)):
        assert torch.allclose(a, b, atol=tolerance), (name, (a - b).abs().max())
    assert not torch.allclose(part.net.theme_head.weight[acme], before["theme_head.weight"][acme], atol=1e-3)
    assert torch.equal(part.net.theme_head.weight[birds], before["theme_head.weight"][birds])
    assert torch.equal(part.net.sentiment_head.weight, before["sentiment_head.weight"])
    assert part.meta.labels == tuned.meta.labels and part.meta.thresholds == tuned.meta.thresholds
    assert part.meta.training_config["refit_with"] == ["heldout"]
    assert all(torch.equal(before[n], p) for n, p in tuned.net.named_parameters() if "head" in n)  # tuned untouched


def test_accounts_and_a_sentiment_head_with_nothing_new_keep_the_champions_weights(tiny_predictor: Predictor) -> None:
    # The champion's heads were fine-tuned with its encoder; logistic regression refitted on its
    # frozen embeddings serves the seed accounts worse, so only what has new comments is fitted.
    rng = np.random.default_rng(2)
    zoo = Taxonomy((Tag("Birds"), Tag("Fish")))
    champion = tiny_predictor.artifact
    taxonomies = {DEFAULT_ACCOUNT: DEFAULT_TAXONOMY, "zoo": zoo}
    seed = [Record(f"seed-{i}", f"seed comment {i}", frozenset({("Bug", "Price")[i % 2]}), "negative")
            for i in range(12)]
    new = [Record(f"zoo-{i}", f"zoo comment {i}", frozenset({("Birds", "Fish")[i % 2]}), None, account="zoo")
           for i in range(12)]
    vectors = rng.normal(size=(24, 32)).astype(np.float32)
    vectors[12:] += np.where(np.arange(12)[:, None] % 2 == 0, 3.0, -3.0)  # Birds and Fish lie apart
    seed_ids = frozenset(r.id for r in seed)

    def fitted(train: list[Record]) -> tuple[torch.nn.Module, list[int], list[int], list[int]]:
        artifact = train_heads(champion, train, [], vectors[:len(train)], taxonomies, HeadsConfig(), "v-test",
                               seed_ids=seed_ids)
        labels = artifact.meta.labels
        source = [champion.meta.labels.index(DEFAULT_ACCOUNT, t) for t in labels.tags(DEFAULT_ACCOUNT)]
        return artifact.net, labels.indices(DEFAULT_ACCOUNT), source, labels.indices("zoo")

    net, columns, source, zoo_columns = fitted([*seed, *new])
    old = champion.net
    assert torch.equal(net.theme_head.weight[columns], old.theme_head.weight[source])
    assert torch.equal(net.theme_head.bias[columns], old.theme_head.bias[source])
    assert torch.equal(net.sentiment_head.weight, old.sentiment_head.weight)
    with torch.no_grad():  # the new account was learned all the same
        zoo_scores = torch.sigmoid(net.heads(torch.from_numpy(vectors[12:]))[0])[:, zoo_columns]
    assert (zoo_scores.argmax(1).numpy() == np.arange(12) % 2).all()

    # A corrected default comment (not in seed_ids) with a sentiment: both are fitted again.
    corrected = Record("fix-1", "a corrected comment", frozenset({"Price"}), "positive")
    net, columns, source, _ = fitted([*seed[:11], corrected, *new])
    assert not torch.equal(net.theme_head.weight[columns], old.theme_head.weight[source])
    assert not torch.equal(net.sentiment_head.weight, old.sentiment_head.weight)
