"""CreateAccount over a real socket, into a real SQLite store: the industry's taxonomy it starts
from, the errors (each naming its field), how the new account is served at once, and the metric."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import Harness, classify, comment, rpc_error, serving, wait_until
from tests.service.scrape import parse


@pytest.fixture()
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('accounts') / 'store.db'}") as opened:
        yield opened


@pytest.fixture()
def server(tiny_predictor: Predictor, store: Store) -> Iterator[Harness]:
    with serving(tiny_predictor, {"store": store}, reload_s=0) as harness:
        yield harness


def create(h: Harness, account: str, industry: str = "") -> pb.CreateAccountResponse:
    return h.stub.CreateAccount(pb.CreateAccountRequest(account_id=account, industry=industry), timeout=10)


def tags_of(h: Harness, text: str, account: str) -> dict[str, pb.TagPrediction]:
    response = h.stub.ClassifyComments(classify(comment("1", text), account=account), timeout=10)
    return {t.name: t for t in response.comments[0].tags}


@pytest.mark.parametrize("industry", ["ecommerce", "media", "saas"])
def test_an_account_starts_from_its_industrys_taxonomy(server: Harness, store: Store, industry: str) -> None:
    response = create(server, "shop", industry)
    assert (response.account_id, response.industry) == ("shop", industry)
    expected = INDUSTRY_TAXONOMIES[industry]
    assert [t.name for t in response.tags] == expected.names
    assert [list(t.keywords) for t in response.tags] == [list(t.keywords) for t in expected.tags]
    listed = server.stub.ListTags(pb.ListTagsRequest(account_id="shop"), timeout=10).tags
    assert list(listed) == list(response.tags)
    assert store.account_industry("shop") == industry
    info = server.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
    assert {a.account_id: a.industry for a in info.accounts} == {DEFAULT_ACCOUNT: "saas", "shop": industry}


def test_an_empty_industry_is_saas(server: Harness, store: Store) -> None:
    response = create(server, "acme")
    assert response.industry == "saas" and [t.name for t in response.tags] == INDUSTRY_TAXONOMIES["saas"].names
    assert store.account_industry("acme") == "saas"


def test_a_new_account_is_served_at_once(server: Harness) -> None:
    create(server, "shop", "ecommerce")  # the tiny model has no ecommerce template: rules alone
    tags = tags_of(server, "The parcel never arrived and I want a refund", "shop")
    assert {name: t.source for name, t in tags.items()} == \
        {"Delivery": pb.TAG_SOURCE_RULE, "Returns & refunds": pb.TAG_SOURCE_RULE}
    assert tags["Delivery"].evidence == "parcel"


def test_a_new_saas_account_is_served_by_the_default_accounts_heads(server: Harness) -> None:
    create(server, "beta", "saas")
    texts = ["The Slack integration keeps crashing", "Way too expensive", "Pages take forever to load"]
    for text in texts:
        beta, default = tags_of(server, text, "beta"), tags_of(server, text, DEFAULT_ACCOUNT)
        assert {n: (t.source, t.confidence) for n, t in beta.items()} == \
            {n: (t.source, t.confidence) for n, t in default.items()}
    view, template = server.server.slot.current()._account("beta"), server.server.slot.current()._account("default")
    assert view.columns == template.columns != []


def test_an_account_that_exists_is_already_exists(server: Harness, store: Store) -> None:
    create(server, "shop", "media")
    for account in ("shop", DEFAULT_ACCOUNT):
        error = rpc_error(lambda: create(server, account, "ecommerce"))
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        assert error.details() == f"account_id: account '{account}' already exists"
    assert store.account_industry("shop") == "media"


BAD: list[tuple[str, str, str, str]] = [
    ("unknown industry", "shop", "retail",
     "industry: unknown industry 'retail'; expected one of ecommerce, media, saas"),
    ("empty account", "", "media", "account_id: must not be empty"),
    ("padded account", " shop", "media", "account_id: must not start or end with whitespace"),
    ("reserved prefix", "industry:media", "media",
     "account_id: 'industry:media' starts with 'industry:', a prefix reserved for"),
]


@pytest.mark.parametrize(("account", "industry", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_requests_are_invalid_argument_naming_the_field(server: Harness, store: Store, account: str,
                                                          industry: str, message: str) -> None:
    error = rpc_error(lambda: create(server, account, industry))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message), error.details()
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_put_tags_may_not_create_a_template_account(server: Harness, store: Store) -> None:
    request = pb.PutTagsRequest(account_id="industry:ecommerce", tags=[pb.Tag(name="Delivery")])
    error = rpc_error(lambda: server.stub.PutTags(request, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("account_id: 'industry:ecommerce' starts with 'industry:'")
    assert store.accounts() == [DEFAULT_ACCOUNT]


def test_create_account_is_counted(server: Harness) -> None:
    create(server, "shop", "media")
    rpc_error(lambda: create(server, "shop", "media"))

    def counted(code: str) -> float:
        samples = parse(server.server.metrics.exposition().decode())
        return samples.get(("verbatim_requests_total", frozenset({"rpc": "CreateAccount", "code": code}.items())), 0)

    wait_until(lambda: counted("ALREADY_EXISTS") == 1)  # counted just after the caller has its answer
    assert counted("OK") == 1


def test_without_a_store_it_is_unimplemented(tiny_predictor: Predictor) -> None:
    with serving(tiny_predictor) as h:
        error = rpc_error(lambda: create(h, "shop", "media"))
        assert error.code() == grpc.StatusCode.UNIMPLEMENTED and "CreateAccount needs a store" in error.details()
        assert all(a.industry == "" for a in h.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10).accounts)
