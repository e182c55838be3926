from verbatim.models.tag_count import MIN_COMMENTS, TagCount, leaf_count, learn_tag_count
from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag, Taxonomy

FLAT = Taxonomy((Tag("food"), Tag("service"), Tag("price")))


def test_a_child_and_its_ancestors_count_as_one_tag() -> None:
    assert leaf_count(DEFAULT_TAXONOMY, {"Integrations", "Slack"}) == 1
    assert leaf_count(DEFAULT_TAXONOMY, {"Integrations", "Slack", "Bug"}) == 2
    assert leaf_count(DEFAULT_TAXONOMY, {"NotATag"}) == 0


def test_bounds_are_learned_only_when_nearly_every_comment_keeps_to_them() -> None:
    single = [{"food"}] * 19 + [{"service"}]
    assert learn_tag_count(FLAT, single) == TagCount(at_least_one=True, at_most_one=True)
    some_multi = [{"food"}] * 15 + [{"food", "price"}] * 5
    assert learn_tag_count(FLAT, some_multi) == TagCount(at_least_one=True, at_most_one=False)
    some_empty = [{"food"}] * 15 + [set()] * 5
    assert learn_tag_count(FLAT, some_empty) == TagCount(at_least_one=False, at_most_one=True)


def test_too_few_comments_learn_nothing() -> None:
    assert learn_tag_count(FLAT, [{"food"}] * (MIN_COMMENTS - 1)) == TagCount()


def test_options_run_from_the_learned_bound_to_none() -> None:
    assert TagCount(True, True).options() == [TagCount(True, True), TagCount(True, False), TagCount(False, True),
                                             TagCount()]
    assert TagCount(True, False).options() == [TagCount(True, False), TagCount()]
    assert TagCount().options() == [TagCount()]
