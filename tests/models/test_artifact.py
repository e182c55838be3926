import json

import numpy as np
import pytest

from verbatim.models.artifact import Artifact, ArtifactError, ArtifactMeta
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.predictor import Predictor, UnknownAccountError
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY


def _tiny_artifact() -> Artifact:
    encoder, tokenizer = tiny_random_encoder(seed=3)
    labels = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: DEFAULT_TAXONOMY.names})
    meta = ArtifactMeta(version="v-test", created_at="2026-01-01T00:00:00+00:00", labels=labels,
                        thresholds=[0.4 + 0.01 * i for i in range(len(labels))],
                        rule_thresholds=[0.3] * len(labels), taxonomies={DEFAULT_ACCOUNT: DEFAULT_TAXONOMY},
                        training_config={"epochs": 1}, data_fingerprint="f" * 64, evaluation={"note": "test"},
                        tag_counts={DEFAULT_ACCOUNT: TagCount(at_least_one=True)})
    net = ThemeSentimentNet(encoder, num_labels=len(labels))
    net.eval()
    return Artifact(meta=meta, net=net, tokenizer=tokenizer)


def test_round_trip_keeps_weights_labels_and_thresholds(tmp_path) -> None:
    artifact = _tiny_artifact()
    artifact.save(tmp_path)
    loaded = Artifact.load(tmp_path)
    assert loaded.meta.labels == artifact.meta.labels
    assert loaded.meta.thresholds == artifact.meta.thresholds
    assert loaded.meta.taxonomies == artifact.meta.taxonomies
    assert loaded.meta.evaluation == {"note": "test"}
    assert loaded.meta.tag_count(DEFAULT_ACCOUNT) == TagCount(at_least_one=True)
    texts = ["Slack sync is broken", "love it"]
    before, after = Predictor(artifact).scores(texts), Predictor(loaded).scores(texts)
    np.testing.assert_allclose(before.themes, after.themes, atol=1e-6)
    np.testing.assert_allclose(before.sentiment, after.sentiment, atol=1e-6)


def test_artifact_describes_itself(tmp_path) -> None:
    _tiny_artifact().save(tmp_path)
    meta = json.loads((tmp_path / "artifact.json").read_text())
    for key in ("labels", "thresholds", "rule_thresholds", "taxonomies", "training_config", "data_fingerprint",
                "evaluation", "format_version", "version"):
        assert key in meta
    assert (tmp_path / "encoder" / "tokenizer.json").exists() or (tmp_path / "encoder" / "vocab.txt").exists()


def test_artifact_from_before_tag_counts_loads_without_bounds(tmp_path) -> None:
    _tiny_artifact().save(tmp_path)
    meta = json.loads((tmp_path / "artifact.json").read_text())
    del meta["tag_counts"]
    (tmp_path / "artifact.json").write_text(json.dumps(meta))
    assert Artifact.load(tmp_path).meta.tag_count(DEFAULT_ACCOUNT) == TagCount()


def test_broken_artifact_is_refused(tmp_path) -> None:
    _tiny_artifact().save(tmp_path)
    (tmp_path / "heads.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ArtifactError, match="cannot load artifact"):
        Artifact.load(tmp_path)


def test_predict_returns_domain_objects_in_order() -> None:
    predictor = Predictor(_tiny_artifact())
    texts = ["a much longer comment about the slack integration crashing every day", "ok", "pricey"]
    predictions = predictor.predict(texts, DEFAULT_ACCOUNT, batch_size=2)
    assert len(predictions) == 3
    for text, prediction in zip(texts, predictions):
        single = predictor.predict([text], DEFAULT_ACCOUNT)[0]
        assert single.tag_names == prediction.tag_names
        assert -1.0 <= prediction.sentiment.score <= 1.0
        assert abs(sum(prediction.sentiment.probabilities.values()) - 1.0) < 1e-5
    slack = {t.name: t for t in predictions[0].tags}
    assert "Integrations" in slack  # "slack" keyword hit brings the parent at least via rules or model
    with pytest.raises(UnknownAccountError):
        predictor.predict(["x"], "nobody")


def test_live_taxonomies_override_the_artifact() -> None:
    from verbatim.models.taxonomy import Tag, Taxonomy

    predictor = Predictor(_tiny_artifact())
    live = predictor.with_taxonomies({
        DEFAULT_ACCOUNT: Taxonomy(tuple(t for t in DEFAULT_TAXONOMY.tags if t.name != "Price")),
        "acme": Taxonomy((Tag("Shipping", keywords=("late delivery",)),)),
    })
    assert live.backend is predictor.backend and live.accounts == ["acme", DEFAULT_ACCOUNT]
    acme = live.predict(["Late delivery again", "fine"], "acme")
    assert [p.tag_names for p in acme] == [{"Shipping"}, set()]
    assert all("Price" not in p.tag_names for p in live.predict(["so expensive", "price hike"], DEFAULT_ACCOUNT))
