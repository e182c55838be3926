"""label_states: the latest word on every (comment, tag), which retraining reads."""

from __future__ import annotations

import random
from collections.abc import Callable

from verbatim.models.taxonomy import Tag
from verbatim.store import Action, CommentLabels, Correction, Store
from verbatim.store.labels import fold_labels

Make = Callable[..., Correction]


def _labels(store: Store, account: str = "default") -> dict[str, CommentLabels]:
    return {c.comment_id: c for c in store.label_states(account)}


def test_remove_after_add_wins(store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction("a", tag="Bug", action=Action.ADD, minutes=0)])
    store.submit_corrections([make_correction("r", tag="Bug", action=Action.REMOVE, predicted_by_model=True,
                                              minutes=1)])
    [comment] = store.label_states("default")
    [bug] = comment.tags
    assert (bug.tag, bug.action, bug.present, bug.predicted_by_model, bug.correction_id) == \
        ("Bug", Action.REMOVE, False, True, "r")
    assert comment.removed == {"Bug"} and comment.added == frozenset()


def test_the_later_time_wins_even_when_it_arrived_first(store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction("newer", tag="Bug", action=Action.ADD, minutes=10)])
    store.submit_corrections([make_correction("older", tag="Bug", action=Action.REMOVE, minutes=5)])
    assert _labels(store)["comment-1"].added == {"Bug"}


def test_at_the_same_time_the_later_arrival_wins(store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction("first", tag="Bug", action=Action.REMOVE, minutes=3),
                              make_correction("second", tag="Bug", action=Action.ADD, minutes=3)])
    store.submit_corrections([make_correction("x", tag="Price", action=Action.ADD, minutes=3)])
    store.submit_corrections([make_correction("y", tag="Price", action=Action.REMOVE, minutes=3)])
    comment = _labels(store)["comment-1"]
    assert comment.added == {"Bug"} and comment.removed == {"Price"}


def test_sentiment_relabel_takes_the_latest_and_ignores_corrections_without_one(
        store: Store, make_correction: Make) -> None:
    store.submit_corrections([
        make_correction("s1", tag="", sentiment="negative", minutes=1),
        make_correction("s2", tag="", sentiment="neutral", minutes=2),
        make_correction("t", tag="Bug", sentiment=None, minutes=3),
        make_correction("s0", tag="", sentiment="positive", minutes=0),
    ])
    comment = _labels(store)["comment-1"]
    assert comment.sentiment == "neutral"
    assert comment.added == {"Bug"}
    store.submit_corrections([make_correction("s3", tag="Price", sentiment="positive", minutes=4)])
    assert _labels(store)["comment-1"].sentiment == "positive"


def test_a_comment_without_a_sentiment_correction_has_none(store: Store, make_correction: Make) -> None:
    store.submit_corrections([make_correction("c", tag="Bug")])
    assert _labels(store)["comment-1"].sentiment is None


def test_comments_tags_accounts_and_text(store: Store, make_correction: Make) -> None:
    store.put_tags("acme", [Tag("Bug"), Tag("Reporting")])
    store.submit_corrections([
        make_correction("k2-bug", comment_id="k2", text="old text", tag="Bug", minutes=0),
        make_correction("k1-slack", comment_id="k1", tag="Slack", predicted_by_model=False, minutes=1),
        make_correction("k1-bug", comment_id="k1", tag="Bug", action=Action.REMOVE, predicted_by_model=True,
                        minutes=2),
        make_correction("k2-price", comment_id="k2", text="edited text", tag="Price", minutes=5),
        make_correction("acme-k1", account_id="acme", comment_id="k1", text="acme text", tag="Reporting"),
    ])
    default = store.label_states("default")
    assert [c.comment_id for c in default] == ["k2", "k1"]  # order of first arrival
    k2, k1 = default
    assert k2.text == "edited text"
    assert [t.tag for t in k1.tags] == ["Bug", "Slack"]
    assert (k1.added, k1.removed) == (frozenset({"Slack"}), frozenset({"Bug"}))
    assert [t.predicted_by_model for t in k1.tags] == [True, False]
    [acme] = store.label_states("acme")
    assert (acme.account_id, acme.comment_id, acme.text) == ("acme", "k1", "acme text")
    assert acme.added == {"Reporting"}
    assert store.label_states("acme") != default


def test_fold_does_not_depend_on_input_order(make_correction: Make) -> None:
    rng = random.Random(7)
    pairs: list[tuple[int, Correction]] = []
    for seq in range(300):
        tag = rng.choice(["Bug", "Price", "Slack", ""])
        pairs.append((seq, make_correction(
            f"c{seq}", comment_id=f"k{rng.randrange(12)}", text=f"text {seq}", tag=tag,
            action=None if tag == "" else rng.choice([Action.ADD, Action.REMOVE]),
            sentiment=rng.choice([None, "negative", "neutral", "positive"]) if tag else "neutral",
            minutes=rng.randrange(20))))
    expected = fold_labels(pairs)
    for _ in range(5):
        rng.shuffle(pairs)
        assert fold_labels(pairs) == expected
    # Against a brute-force reading of the rule: per tag, the max of (time, seq).
    for comment in expected:
        mine = [(seq, c) for seq, c in pairs if c.comment_id == comment.comment_id]
        for label in comment.tags:
            latest = max(((c.time, seq), c) for seq, c in mine if c.tag == label.tag)[1]
            assert (label.correction_id, label.action) == (latest.correction_id, latest.action)
        with_sentiment = [((c.time, seq), c) for seq, c in mine if c.sentiment is not None]
        assert comment.sentiment == (max(with_sentiment)[1].sentiment if with_sentiment else None)
