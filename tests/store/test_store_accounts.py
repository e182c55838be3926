"""Accounts created with an industry: the default taxonomy they start from, the industry kept per
account, the reserved template prefix, and stores migrated from before industries existed."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from verbatim.models.industries import INDUSTRY_TAXONOMIES, TEMPLATE_PREFIX
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Tag
from verbatim.store import AccountExists, InvalidInput, Store, UnknownAccount
from verbatim.store.engine import create_store_engine
from verbatim.store.migrations import migrate
from verbatim.store.schema import AccountRow, TagRow


@pytest.mark.parametrize("industry", sorted(INDUSTRY_TAXONOMIES))
def test_create_account_starts_from_the_industrys_taxonomy(store: Store, industry: str) -> None:
    taxonomy = store.create_account("shop", industry)
    assert taxonomy == INDUSTRY_TAXONOMIES[industry]
    assert store.taxonomy("shop") == taxonomy  # positions kept in order, keywords kept
    assert store.account_industry("shop") == industry
    assert store.industries() == {DEFAULT_ACCOUNT: "saas", "shop": industry}


def test_the_default_industry_is_saas(store: Store) -> None:
    assert store.create_account("acme") == DEFAULT_TAXONOMY
    assert store.account_industry("acme") == "saas"
    assert store.account_industry(DEFAULT_ACCOUNT) == "saas"


def test_an_account_that_exists_is_refused_and_left_alone(store: Store) -> None:
    store.create_account("shop", "ecommerce")
    store.put_tags("shop", [Tag("Gift cards", keywords=("gift card",))])
    with pytest.raises(AccountExists, match="account_id: account 'shop' already exists") as caught:
        store.create_account("shop", "media")
    assert caught.value.field == "account_id"
    assert store.account_industry("shop") == "ecommerce"
    assert store.taxonomy("shop").names == INDUSTRY_TAXONOMIES["ecommerce"].names + ["Gift cards"]
    with pytest.raises(AccountExists):
        store.create_account(DEFAULT_ACCOUNT, "saas")


@pytest.mark.parametrize("industry", ["retail", "", "SaaS", None])
def test_an_unknown_industry_is_refused_naming_the_field_and_the_choices(store: Store, industry: object) -> None:
    with pytest.raises(InvalidInput, match="unknown industry") as caught:
        store.create_account("shop", industry)  # type: ignore[arg-type]
    assert caught.value.field == "industry"
    assert str(caught.value).startswith("industry: ") and "ecommerce, media, saas" in str(caught.value)
    assert store.accounts() == [DEFAULT_ACCOUNT]


@pytest.mark.parametrize("account", ["", " padded", "x" * 256])
def test_bad_account_ids_are_refused(store: Store, account: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        store.create_account(account, "media")
    assert caught.value.field == "account_id"
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_the_template_prefix_is_reserved_wherever_an_account_is_created(store: Store) -> None:
    account = TEMPLATE_PREFIX + "ecommerce"
    for create in (lambda: store.create_account(account, "ecommerce"),
                   lambda: store.put_tags(account, [Tag("Delivery")])):
        with pytest.raises(InvalidInput, match="reserved") as caught:
            create()
        assert caught.value.field == "account_id"
        assert str(caught.value).startswith(f"account_id: '{account}' starts with '{TEMPLATE_PREFIX}'")
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_put_tags_creates_a_saas_account(store: Store) -> None:
    store.put_tags("globex", [Tag("Competitors")])
    assert store.industries() == {DEFAULT_ACCOUNT: "saas", "globex": "saas"}


def test_account_industry_of_an_unknown_account(store: Store) -> None:
    with pytest.raises(UnknownAccount, match="'ghost'"):
        store.account_industry("ghost")


def test_accounts_from_before_industries_are_saas(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as connection:
            assert migrate(connection, target=3) == (0, 3)
            connection.execute(insert(AccountRow), [{"id": "acme", "created_at": datetime.now(timezone.utc)}])
            connection.execute(insert(TagRow), [TagRow.values("acme", Tag("Reporting"), 0)])
    finally:
        engine.dispose()
    with Store(store_url) as store:
        assert store.industries() == {"acme": "saas", DEFAULT_ACCOUNT: "saas"}
        assert store.taxonomy("acme").names == ["Reporting"]
        store.create_account("shop", "media")
        assert store.account_industry("shop") == "media"
