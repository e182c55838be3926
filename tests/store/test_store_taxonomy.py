"""Taxonomies in the store: the seeded default, put/list/delete, and refused changes."""

from __future__ import annotations

import pytest

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag
from verbatim.store import InvalidInput, InvalidTaxonomy, Store, TagHasChildren, UnknownAccount, UnknownTag

ACME = "acme"
REPORTING = Tag("Reporting", description="Dashboards and reports.", keywords=("report", "dashboard"))
EXPORTS = Tag("Exports", parent="Reporting", description="CSV and PDF exports.", keywords=("csv", "pdf"))
PDF = Tag("PDF", parent="Exports", description="PDF exports.", keywords=("pdf",))


def test_default_account_is_seeded_with_the_default_taxonomy(store: Store) -> None:
    assert store.accounts() == [DEFAULT_ACCOUNT]
    assert store.taxonomy(DEFAULT_ACCOUNT) == DEFAULT_TAXONOMY
    assert store.taxonomy(DEFAULT_ACCOUNT).ancestors("Slack") == ["Integrations"]


def test_reopening_does_not_reseed_a_changed_default_taxonomy(store_url: str) -> None:
    with Store(store_url) as first:
        first.delete_tag(DEFAULT_ACCOUNT, "Price")
    with Store(store_url) as second:
        assert "Price" not in second.taxonomy(DEFAULT_ACCOUNT)
        assert len(second.taxonomy(DEFAULT_ACCOUNT).tags) == len(DEFAULT_TAXONOMY.tags) - 1


def test_put_tags_creates_an_account_with_nested_tags(store: Store) -> None:
    taxonomy = store.put_tags(ACME, [PDF, REPORTING, EXPORTS])
    assert taxonomy.names == ["PDF", "Reporting", "Exports"]
    assert store.accounts() == [ACME, DEFAULT_ACCOUNT]
    stored = store.taxonomy(ACME)
    assert stored == taxonomy
    assert stored.ancestors("PDF") == ["Exports", "Reporting"]
    assert stored.get("Exports").keywords == ("csv", "pdf")
    assert store.taxonomy(DEFAULT_ACCOUNT) == DEFAULT_TAXONOMY


def test_put_tags_upserts_by_name_and_keeps_the_order(store: Store) -> None:
    store.put_tags(ACME, [REPORTING, EXPORTS])
    changed = Tag("Reporting", description="Reports, dashboards, KPIs.", keywords=("kpi",))
    mobile = Tag("Mobile app", description="The apps.", keywords=("ios", "android"))
    taxonomy = store.put_tags(ACME, [mobile, changed])
    assert taxonomy.names == ["Reporting", "Exports", "Mobile app"]
    assert store.taxonomy(ACME).get("Reporting") == changed
    assert store.taxonomy(ACME) == taxonomy


def test_put_tags_can_reparent_a_tag(store: Store) -> None:
    store.put_tags(DEFAULT_ACCOUNT, [Tag("Teams", parent="Integrations", description="Microsoft Teams.")])
    store.put_tags(DEFAULT_ACCOUNT, [Tag("Teams", parent=None, description="Microsoft Teams.")])
    assert store.taxonomy(DEFAULT_ACCOUNT).get("Teams").parent is None


def test_put_tags_with_no_tags_creates_an_empty_account(store: Store) -> None:
    assert store.put_tags(ACME, []).tags == ()
    assert ACME in store.accounts()


def test_missing_parent_is_refused_and_nothing_is_written(store: Store) -> None:
    with pytest.raises(InvalidTaxonomy, match=r"'Exports' has parent 'Reporting', which is not a tag"):
        store.put_tags(ACME, [EXPORTS])
    assert ACME not in store.accounts()
    with pytest.raises(InvalidTaxonomy, match="acme"):
        store.put_tags(ACME, [PDF, Tag("Mobile app")])
    assert ACME not in store.accounts()


def test_a_cycle_is_refused_and_nothing_is_written(store: Store) -> None:
    store.put_tags(ACME, [REPORTING, EXPORTS, PDF])
    before = store.taxonomy(ACME)
    with pytest.raises(InvalidTaxonomy, match="cycle"):
        store.put_tags(ACME, [Tag("Reporting", parent="PDF"), Tag("Mobile app")])
    assert store.taxonomy(ACME) == before
    with pytest.raises(InvalidTaxonomy, match="cycle"):
        store.put_tags(ACME, [Tag("Loop", parent="Loop")])
    assert store.taxonomy(ACME) == before


def test_a_name_given_twice_in_one_request_is_refused(store: Store) -> None:
    with pytest.raises(InvalidTaxonomy, match=r"'Reporting' is given twice \(tags\[0\] and tags\[1\]\)"):
        store.put_tags(ACME, [REPORTING, Tag("Reporting", description="other")])
    assert ACME not in store.accounts()


@pytest.mark.parametrize(("tag", "field"), [
    (Tag(""), "tags[0].name"),
    (Tag(" Slack"), "tags[0].name"),
    (Tag("x" * 256), "tags[0].name"),
    (Tag("Child", parent=""), "tags[0].parent"),
    (Tag("Words", keywords=("ok", "")), "tags[0].keywords[1]"),
    (Tag("Nul", description="a\x00b"), "tags[0].description"),
])
def test_bad_tag_fields_are_named(store: Store, tag: Tag, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.put_tags(ACME, [tag])
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert ACME not in store.accounts()


@pytest.mark.parametrize("account", ["", "  ", "x" * 256])
def test_bad_account_ids_are_refused(store: Store, account: str) -> None:
    with pytest.raises(InvalidInput, match="account_id"):
        store.put_tags(account, [REPORTING])
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_delete_tag(store: Store) -> None:
    store.put_tags(ACME, [REPORTING, EXPORTS, PDF])
    after = store.delete_tag(ACME, "PDF")
    assert after.names == ["Reporting", "Exports"]
    assert store.taxonomy(ACME) == after
    assert store.delete_tag(ACME, "Exports").names == ["Reporting"]


def test_delete_a_tag_with_children_is_refused_naming_them(store: Store) -> None:
    with pytest.raises(TagHasChildren, match="Slack.*Salesforce.*HubSpot.*Zendesk.*Intercom") as caught:
        store.delete_tag(DEFAULT_ACCOUNT, "Integrations")
    assert caught.value.children == ("Slack", "Salesforce", "HubSpot", "Zendesk", "Intercom")
    assert store.taxonomy(DEFAULT_ACCOUNT) == DEFAULT_TAXONOMY


def test_delete_an_unknown_tag_is_refused_naming_it(store: Store) -> None:
    with pytest.raises(UnknownTag, match="'Nope'.*'default'"):
        store.delete_tag(DEFAULT_ACCOUNT, "Nope")
    assert store.taxonomy(DEFAULT_ACCOUNT) == DEFAULT_TAXONOMY


def test_unknown_account(store: Store) -> None:
    with pytest.raises(UnknownAccount, match="'ghost'"):
        store.taxonomy("ghost")
    with pytest.raises(UnknownAccount, match="'ghost'"):
        store.delete_tag("ghost", "Bug")
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_taxonomies_are_per_account(store: Store) -> None:
    store.put_tags(ACME, [Tag("Bug", description="acme's own Bug")])
    store.delete_tag(ACME, "Bug")
    assert "Bug" in store.taxonomy(DEFAULT_ACCOUNT)
    assert store.taxonomy(ACME).tags == ()
