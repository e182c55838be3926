import pytest

from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag, Taxonomy, TaxonomyError


def test_default_taxonomy_shape() -> None:
    roots = [t.name for t in DEFAULT_TAXONOMY.tags if t.parent is None]
    assert roots == ["Bug", "Competition", "Documentation", "Feature request", "Implementation",
                     "Integrations", "Performance", "Price", "Support", "Usability"]
    children = {t.name for t in DEFAULT_TAXONOMY.tags if t.parent == "Integrations"}
    assert children == {"Slack", "Salesforce", "HubSpot", "Zendesk", "Intercom"}


def test_close_adds_every_ancestor() -> None:
    taxonomy = Taxonomy((Tag("A"), Tag("B", parent="A"), Tag("C", parent="B")))
    assert taxonomy.close(["C"]) == {"A", "B", "C"}
    assert taxonomy.ancestors("C") == ["B", "A"]


@pytest.mark.parametrize("tags, message", [
    ((Tag("A", parent="Missing"),), "parent 'Missing'"),
    ((Tag("A", parent="B"), Tag("B", parent="A")), "cycle"),
    ((Tag("A"), Tag("A")), "duplicate"),
    ((Tag(" "),), "empty"),
])
def test_invalid_taxonomies_are_refused(tags: tuple[Tag, ...], message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy(tags)


def test_round_trip() -> None:
    assert Taxonomy.from_list(DEFAULT_TAXONOMY.to_list()) == DEFAULT_TAXONOMY
