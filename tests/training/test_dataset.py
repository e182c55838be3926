"""build_training_set: which (comment, tag) cells are known, and to be what."""

from __future__ import annotations

from verbatim.models.labels import LabelSpace
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.training.corpus import Record
from verbatim.training.dataset import IGNORE, build_training_set


def test_an_accounts_tags_are_known_for_its_own_comments_only() -> None:
    labels = LabelSpace.from_taxonomies({"toy": ["Cats", "Dogs"], "zoo": ["Birds"]})
    records = [Record("t1", "a cat", frozenset({"Cats"}), "positive", account="toy"),
               Record("z1", "a bird", frozenset(), None, account="zoo")]
    data = build_training_set(records, labels, [[1], [2]])
    cats, dogs, birds = labels.index("toy", "Cats"), labels.index("toy", "Dogs"), labels.index("zoo", "Birds")
    assert data.mask[0, [cats, dogs, birds]].tolist() == [1.0, 1.0, 0.0]
    assert data.targets[0, [cats, dogs]].tolist() == [1.0, 0.0]
    assert data.mask[1, [cats, dogs, birds]].tolist() == [0.0, 0.0, 1.0] and data.targets[1, birds] == 0.0
    assert data.sentiment.tolist() == [2, IGNORE]


def test_seed_comments_are_not_negatives_for_default_tags_added_after_the_seed() -> None:
    labels = LabelSpace.from_taxonomies({DEFAULT_ACCOUNT: ["Bug", "Teams"]})  # Teams is not a seed tag
    records = [Record("seed-1", "crash", frozenset({"Bug"}), None), Record("c-1", "crash", frozenset({"Bug"}), None)]
    data = build_training_set(records, labels, [[1], [1]], seed_ids=frozenset({"seed-1"}))
    assert data.mask.tolist() == [[1.0, 0.0], [1.0, 1.0]]
    assert build_training_set(records, labels, [[1], [1]]).mask.all()  # without seed_ids every cell is known


def test_each_tag_a_comment_carries_gets_its_own_sentiment_or_the_comments() -> None:
    labels = LabelSpace.from_taxonomies({"shop": ["Price", "Delivery", "Packaging"]})
    records = [Record("mixed", "fast delivery, silly prices", frozenset({"Price", "Delivery"}), "neutral",
                      account="shop", tag_sentiments=(("Delivery", "positive"), ("Price", "negative"))),
               Record("plain", "box crushed", frozenset({"Packaging"}), "negative", account="shop"),
               Record("part", "ok price, box?", frozenset({"Price", "Packaging"}), "neutral", account="shop",
                      tag_sentiments=(("Price", "neutral"),))]
    data = build_training_set(records, labels, [[1], [2], [3]])
    price, delivery, packaging = (labels.index("shop", t) for t in ("Price", "Delivery", "Packaging"))
    assert data.tag_sentiment[0, [price, delivery, packaging]].tolist() == [0, 2, IGNORE]
    # no per-tag label: the comment's sentiment is its tag's
    assert data.tag_sentiment[1, [price, delivery, packaging]].tolist() == [IGNORE, IGNORE, 0]
    # labelled per tag but not for this tag: unknown, never guessed from the others
    assert data.tag_sentiment[2, [price, packaging]].tolist() == [1, IGNORE]
