import numpy as np

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.predictor import Scores
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.training.corpus import Record
from verbatim.training.tag_counts import choose_on_dev, learn_tag_counts

FLAT = Taxonomy((Tag("food"), Tag("service")))
TAXONOMIES = {"acme": FLAT, DEFAULT_ACCOUNT: DEFAULT_TAXONOMY}


def _records(account: str, tag_sets: list[set[str]]) -> list[Record]:
    return [Record(f"{account}-{i}", f"comment {i}", frozenset(tags), None, account=account)
            for i, tags in enumerate(tag_sets)]


def _artifact(count: TagCount) -> Artifact:
    encoder, tokenizer = tiny_random_encoder(seed=3)
    labels = LabelSpace.from_taxonomies({"acme": FLAT.names})
    meta = ArtifactMeta.untuned("v-test", labels, {"acme": FLAT}, tag_counts={"acme": count})
    return Artifact(meta=meta, net=ThemeSentimentNet(encoder, num_labels=len(labels)), tokenizer=tokenizer)


def _scores(themes: list[list[float]]) -> Scores:
    themes = np.array(themes, dtype=np.float32)
    return Scores(themes=themes, sentiment=np.full((len(themes), 3), 1 / 3),
                  tag_sentiment=np.full((*themes.shape, 3), 1 / 3))


def test_each_account_learns_from_its_own_comments() -> None:
    records = _records("acme", [{"food"}] * 12) + _records(DEFAULT_ACCOUNT, [{"Bug", "Price"}] * 6 + [set()] * 6)
    assert learn_tag_counts(records, TAXONOMIES) == {"acme": TagCount(at_least_one=True, at_most_one=True)}


def test_dev_keeps_a_bound_that_helps() -> None:
    artifact = _artifact(TagCount(at_least_one=True))
    dev = _records("acme", [{"food"}] * 12)
    choose_on_dev(artifact, dev, _scores([[0.4, 0.1]] * 12))  # every comment under threshold: the guess is right
    assert artifact.meta.tag_count("acme") == TagCount(at_least_one=True)


def test_dev_drops_a_bound_that_hurts() -> None:
    artifact = _artifact(TagCount(at_least_one=True))
    dev = _records("acme", [{"food"}] * 6 + [set()] * 6)
    # The guesses on the six untagged comments are all wrong; the tagged six are found without them.
    choose_on_dev(artifact, dev, _scores([[0.9, 0.1]] * 6 + [[0.1, 0.4]] * 6))
    assert artifact.meta.tag_count("acme") == TagCount()


def test_too_few_dev_comments_keep_the_learned_bound() -> None:
    artifact = _artifact(TagCount(at_least_one=True))
    dev = _records("acme", [set()] * 3)
    choose_on_dev(artifact, dev, _scores([[0.1, 0.4]] * 3))
    assert artifact.meta.tag_count("acme") == TagCount(at_least_one=True)


def test_dev_noise_does_not_override_the_labels() -> None:
    artifact = _artifact(TagCount(at_least_one=True))
    dev = _records("acme", [{"food"}] * 100 + [set()])
    # One wrong guess in 101 comments costs less than DEV_GAIN.
    choose_on_dev(artifact, dev, _scores([[0.9, 0.1]] * 100 + [[0.1, 0.4]]))
    assert artifact.meta.tag_count("acme") == TagCount(at_least_one=True)
