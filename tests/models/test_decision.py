import pytest

from verbatim.models.decision import TagScore, confidence_all_right, decide_tags, needs_review
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag, Taxonomy
from verbatim.models.types import TagSource


def _by_name(tags):
    return {t.name: t for t in tags}


def test_model_rule_and_both_sources() -> None:
    scores = [TagScore("Bug", 0.9, 0.5, 0.2), TagScore("Price", 0.3, 0.5, 0.2), TagScore("Support", 0.1, 0.5, 0.2),
              TagScore("Usability", 0.3, 0.5, 0.5)]
    tags = _by_name(decide_tags(DEFAULT_TAXONOMY, scores, {"Bug": "crash", "Price": "price", "Support": "help",
                                                           "Usability": "ui"}))
    assert tags["Bug"].source is TagSource.BOTH and tags["Bug"].evidence == "crash"
    assert tags["Price"].source is TagSource.RULE and tags["Price"].confidence == 0.3
    assert "Support" not in tags  # below the rule threshold
    assert "Usability" not in tags  # rule threshold equals threshold: the rule is off


def test_child_brings_parent_even_when_parent_scores_low() -> None:
    scores = [TagScore("Integrations", 0.2, 0.5, 0.5), TagScore("Slack", 0.8, 0.5, 0.5)]
    tags = _by_name(decide_tags(DEFAULT_TAXONOMY, scores, {}))
    assert tags["Integrations"].confidence == 0.8
    assert tags["Slack"].parent == "Integrations"


def test_tag_unknown_to_the_model_is_added_by_its_rule() -> None:
    taxonomy = Taxonomy((Tag("Bug"), Tag("Acme", keywords=("acme",))))
    tags = _by_name(decide_tags(taxonomy, [TagScore("Bug", 0.1, 0.5, 0.5)], {"Acme": "Acme"}))
    assert tags["Acme"].source is TagSource.RULE and tags["Acme"].confidence == 1.0


def test_tag_removed_from_taxonomy_is_not_returned() -> None:
    taxonomy = Taxonomy((Tag("Bug"),))
    assert decide_tags(taxonomy, [TagScore("Gone", 0.99, 0.5, 0.5)], {}) == ()


def test_confidence_all_right_multiplies_the_chance_each_decision_is_right() -> None:
    scores = [TagScore("Bug", 0.9, 0.5, 0.5), TagScore("Price", 0.2, 0.5, 0.5), TagScore("Support", 0.4, 0.3, 0.3)]
    # Bug chosen (0.9 right), Price not (0.8 right), Support chosen at its 0.3 threshold (0.4 right)
    assert confidence_all_right(scores, 0.75) == pytest.approx(0.75 * 0.9 * 0.8 * 0.4)


def test_needs_review_below_the_cutoff() -> None:
    assert needs_review([TagScore("Bug", 0.52, 0.5, 0.5)], 0.9, cutoff=0.5)  # 0.468
    assert not needs_review([TagScore("Bug", 0.95, 0.5, 0.5)], 0.9, cutoff=0.5)  # 0.855
    assert needs_review([TagScore("Bug", 0.95, 0.5, 0.5)], 0.4, cutoff=0.5)  # an unsure sentiment: 0.38


FLAT = Taxonomy((Tag("food"), Tag("service"), Tag("price")))


def test_at_least_one_gives_the_most_probable_tag() -> None:
    scores = [TagScore("food", 0.3, 0.5, 0.5), TagScore("service", 0.2, 0.25, 0.25), TagScore("price", 0.01, 0.5, 0.5)]
    assert decide_tags(FLAT, scores, {}) == ()
    tags = decide_tags(FLAT, scores, {}, TagCount(at_least_one=True))
    assert [(t.name, t.source, t.confidence) for t in tags] == [("food", TagSource.MODEL, 0.3)]


def test_at_least_one_leaves_a_tagged_comment_alone() -> None:
    scores = [TagScore("food", 0.9, 0.5, 0.5), TagScore("service", 0.4, 0.5, 0.5)]
    assert [t.name for t in decide_tags(FLAT, scores, {}, TagCount(at_least_one=True))] == ["food"]


def test_at_most_one_keeps_the_most_probable_tag() -> None:
    scores = [TagScore("food", 0.6, 0.3, 0.3), TagScore("service", 0.9, 0.8, 0.8), TagScore("price", 0.7, 0.5, 0.5)]
    assert [t.name for t in decide_tags(FLAT, scores, {})] == ["food", "service", "price"]
    assert [t.name for t in decide_tags(FLAT, scores, {}, TagCount(at_most_one=True))] == ["service"]


def test_at_most_one_counts_a_child_with_its_parent_as_one() -> None:
    scores = [TagScore("Integrations", 0.9, 0.5, 0.5), TagScore("Slack", 0.6, 0.5, 0.5)]
    tags = decide_tags(DEFAULT_TAXONOMY, scores, {}, TagCount(at_most_one=True))
    assert {t.name for t in tags} == {"Integrations", "Slack"}
