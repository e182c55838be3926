"""PutTags, ListTags and DeleteTag over a real socket, into a real SQLite store, and how the
serving model follows them: at once on this replica, after a poll for another replica's change."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Tag
from verbatim.store import Store
from tests.service.harness import Harness, classify, comment, rpc_error, serving, wait_until
from verbatim.v1 import verbatim_pb2 as pb


@pytest.fixture()
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('taxonomy') / 'store.db'}") as opened:
        yield opened


@pytest.fixture()
def server(tiny_predictor: Predictor, store: Store) -> Iterator[Harness]:
    with serving(tiny_predictor, {"store": store}, reload_s=0) as harness:  # polls only where a test asks
        yield harness


def put(h: Harness, account: str, *tags: pb.Tag) -> list[str]:
    return [t.name for t in h.stub.PutTags(pb.PutTagsRequest(account_id=account, tags=tags), timeout=10).tags]


def names(h: Harness, account: str) -> list[str]:
    return [t.name for t in h.stub.ListTags(pb.ListTagsRequest(account_id=account), timeout=10).tags]


def tags_of(h: Harness, text: str, account: str) -> dict[str, pb.TagPrediction]:
    response = h.stub.ClassifyComments(classify(comment("1", text), account=account), timeout=10)
    return {t.name: t for t in response.comments[0].tags}


def test_list_tags_of_the_default_account_is_the_saas_taxonomy(server: Harness) -> None:
    tags = server.stub.ListTags(pb.ListTagsRequest(), timeout=10).tags  # "" is the default account
    assert [t.name for t in tags] == DEFAULT_TAXONOMY.names
    slack = next(t for t in tags if t.name == "Slack")
    assert slack.parent == "Integrations" and list(slack.keywords) == ["slack"] and slack.description
    assert not next(t for t in tags if t.name == "Bug").HasField("parent")


def test_a_new_tag_is_served_by_its_rule_at_once(server: Harness, tiny_predictor: Predictor) -> None:
    assert put(server, "acme", pb.Tag(name="Shipping", description="Deliveries.", keywords=["late delivery"])) \
        == ["Shipping"]
    response = server.stub.ClassifyComments(classify(comment("1", "late delivery again"), account="acme"), timeout=10)
    [shipping] = response.comments[0].tags
    assert (shipping.name, shipping.source, shipping.evidence) == ("Shipping", pb.TAG_SOURCE_RULE, "late delivery")
    assert response.model_version == tiny_predictor.version  # same model, new taxonomy


def test_an_account_the_model_never_saw_is_served_by_rules_alone(server: Harness) -> None:
    error = rpc_error(lambda: tags_of(server, "hello", "globex"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "unknown account 'globex'" in error.details()
    put(server, "globex", pb.Tag(name="Competitors", keywords=["initech"]),
        pb.Tag(name="Initech", parent="Competitors", keywords=["initech suite"]))
    tags = tags_of(server, "We looked at the Initech Suite last week", "globex")
    assert list(tags) == ["Competitors", "Initech"]
    assert tags["Initech"].parent == "Competitors" and tags["Initech"].evidence == "Initech Suite"
    assert all(t.source == pb.TAG_SOURCE_RULE and t.confidence == 1.0 for t in tags.values())
    assert tags_of(server, "nothing relevant", "globex") == {}
    info = server.stub.GetModelInfo(pb.GetModelInfoRequest(account_id="globex"), timeout=10)
    assert [t.name for t in info.accounts[0].tags] == ["Competitors", "Initech"]


def test_put_tags_replaces_a_tag_by_name(server: Harness) -> None:
    put(server, "globex", pb.Tag(name="Billing", keywords=["invoice"]), pb.Tag(name="Other", keywords=["misc"]))
    assert "Billing" in tags_of(server, "wrong invoice", "globex")
    put(server, "globex", pb.Tag(name="Billing", description="Invoices and refunds.", keywords=["refund"]))
    assert names(server, "globex") == ["Billing", "Other"]  # replaced in place, the others kept
    assert "Billing" not in tags_of(server, "wrong invoice", "globex")
    assert tags_of(server, "still no refund", "globex")["Billing"].evidence == "refund"
    billing = server.stub.ListTags(pb.ListTagsRequest(account_id="globex"), timeout=10).tags[0]
    assert billing.description == "Invoices and refunds." and list(billing.keywords) == ["refund"]


def test_delete_tag_stops_serving_it_at_once(server: Harness) -> None:
    assert "Price" in tags_of(server, "way too expensive", "")
    response = server.stub.DeleteTag(pb.DeleteTagRequest(name="Price"), timeout=10)
    assert [t.name for t in response.tags] == [n for n in DEFAULT_TAXONOMY.names if n != "Price"]
    assert "Price" not in tags_of(server, "way too expensive", "")
    error = rpc_error(lambda: server.stub.ClassifyComments(classify(comment("1", "way too expensive"),
                                                                    only_tags=["Price"]), timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and "unknown tag 'Price'" in error.details()


BAD_PUTS: list[tuple[str, str, list[pb.Tag], str]] = [
    ("missing parent", "default", [pb.Tag(name="Teams", parent="Chat apps")],
     "taxonomy of account 'default': tag 'Teams' has parent 'Chat apps', which is not a tag"),
    ("cycle", "default", [pb.Tag(name="A", parent="B"), pb.Tag(name="B", parent="A")],
     "taxonomy of account 'default': tag 'A' is part of a parent cycle"),
    ("cycle through an existing tag", "default", [pb.Tag(name="Integrations", parent="Slack")],
     "taxonomy of account 'default': tag 'Integrations' is part of a parent cycle"),
    ("given twice", "default", [pb.Tag(name="X"), pb.Tag(name="X")],
     "taxonomy of account 'default': tag 'X' is given twice (tags[0] and tags[1])"),
    ("empty name", "default", [pb.Tag(name="")], "tags[0].name: must not be empty"),
    ("empty parent", "default", [pb.Tag(name="X", parent="")], "tags[0].parent: must not be empty"),
    ("empty keyword", "default", [pb.Tag(name="X", keywords=["ok", " "])], "tags[0].keywords[1]: must not be empty"),
    ("no tags", "globex", [], "tags: no tags; send at least one"),
    ("bad account", " padded ", [pb.Tag(name="X")], "account_id: must not start or end with whitespace"),
]


@pytest.mark.parametrize(("account", "tags", "message"), [(a, t, m) for _, a, t, m in BAD_PUTS],
                         ids=[n for n, _, _, _ in BAD_PUTS])
def test_a_bad_put_is_invalid_argument_and_changes_nothing(server: Harness, store: Store, account: str,
                                                            tags: list[pb.Tag], message: str) -> None:
    before = {a: store.taxonomy(a) for a in store.accounts()}
    error = rpc_error(lambda: put(server, account, *tags))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message), error.details()
    assert {a: store.taxonomy(a) for a in store.accounts()} == before
    assert "globex" not in server.server.slot.current().accounts


BAD_LOOKUPS: list[tuple[str, str, str, str]] = [
    ("ListTags", "nope", "", "account_id: unknown account 'nope'"),
    ("DeleteTag", "nope", "Bug", "account_id: unknown account 'nope'"),
    ("DeleteTag", "", "Bugz", "name: unknown tag 'Bugz' in the taxonomy of account 'default'"),
    ("DeleteTag", "", "Integrations", "tag 'Integrations' of account 'default' still has children ('Slack', "),
]


@pytest.mark.parametrize(("rpc", "account", "name", "message"), BAD_LOOKUPS,
                         ids=["list unknown account", "delete unknown account", "delete unknown tag", "has children"])
def test_lookups_of_what_does_not_exist_are_invalid_argument(server: Harness, rpc: str, account: str, name: str,
                                                            message: str) -> None:
    request = pb.ListTagsRequest(account_id=account) if rpc == "ListTags" else \
        pb.DeleteTagRequest(account_id=account, name=name)
    error = rpc_error(lambda: getattr(server.stub, rpc)(request, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message), error.details()
    assert names(server, "") == DEFAULT_TAXONOMY.names


def test_the_server_serves_the_stores_taxonomies_from_the_start(tiny_predictor: Predictor, store: Store) -> None:
    # The artifact knows "acme"; the store, the source of truth, does not yet.
    assert "acme" in tiny_predictor.accounts
    store.put_tags("default", [Tag("Onboarding", keywords=("first week",))])
    with serving(tiny_predictor, {"store": store}, reload_s=0) as h:
        assert h.server.slot.current().accounts == ["default"]
        assert "Onboarding" in tags_of(h, "the first week was rough", "default")


def test_another_replicas_change_is_served_after_the_next_poll(tiny_predictor: Predictor, store: Store) -> None:
    with serving(tiny_predictor, {"store": store}, reload_s=0.1) as h:
        version = h.server.slot.current().version
        # Another replica writes to the shared store; this one has not been told.
        store.put_tags("hooli", [Tag("Nucleus", keywords=("compression",))])
        store.delete_tag("default", "Usability")
        wait_until(lambda: "hooli" in h.server.slot.current().accounts, timeout=10)
        assert tags_of(h, "the compression ratio", "hooli")["Nucleus"].source == pb.TAG_SOURCE_RULE
        assert "Usability" not in h.server.slot.current().taxonomy("default")
        assert h.server.slot.current().version == version
