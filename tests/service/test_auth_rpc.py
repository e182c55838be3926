"""API keys over a real socket: who may call which RPC on which account, what stays open, the
per-key concurrency limit, the failure metric, and the key recorded with each correction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import Tag
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import Harness, RecordingPredictor, classify, comment, rpc_error, serving, wait_until
from tests.service.scrape import parse, value

KEYS = {"admin": ("vbk_admin", "*", False), "acme": ("vbk_acme", ["acme"], False),
        "reader": ("vbk_reader", ["acme"], True)}
Call = Callable[[Harness, Any], object]  # (server, metadata) -> the RPC's answer


def key_lines(keys: dict[str, tuple[str, object, bool]]) -> str:
    return "\n".join(json.dumps({"name": name, "sha256": hashlib.sha256(secret.encode()).hexdigest(),
                                 "accounts": accounts, "read_only": read_only})
                     for name, (secret, accounts, read_only) in keys.items())


def auth(name: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {KEYS[name][0]}"),)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('auth') / 'store.db'}") as opened:
        opened.put_tags("acme", [Tag("Bug"), Tag("Reporting")])  # the served accounts are the store's
        yield opened


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor, store: Store) -> Iterator[Harness]:
    with serving(tiny_predictor, {"store": store}, api_keys=key_lines(KEYS)) as harness:
        yield harness


def correction(cid: str, account: str) -> pb.Correction:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 3, 1, tzinfo=timezone.utc))
    return pb.Correction(correction_id=cid, account_id=account, comment_id=f"comment-{cid}", tag="Bug",
                         text="The app crashes on login", action=pb.CORRECTION_ACTION_ADD, actor="ana", time=stamp)


def summarize(h: Harness, metadata: Any, account: str | None) -> object:
    options = pb.SummaryOptions(account_id=account) if account is not None else None
    return h.stub.SummarizeResponses(iter([pb.SummarizeResponsesRequest(options=options)]), timeout=10,
                                     metadata=metadata)


def on_account(account: str) -> dict[str, Call]:
    """Every Verbatim RPC, touching `account` ("" is the default account)."""
    tag = pb.Tag(name="Onboarding", description="first steps")
    return {
        "ClassifyComments": lambda h, m: h.stub.ClassifyComments(classify(comment("a", "slow"), account=account),
                                                                 timeout=10, metadata=m),
        "SubmitCorrections": lambda h, m: h.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(
            corrections=[correction(f"c-{account}-1", "acme"), correction(f"c-{account}-2", account)]),
            timeout=10, metadata=m),
        "PutTags": lambda h, m: h.stub.PutTags(pb.PutTagsRequest(account_id=account, tags=[tag]), timeout=10,
                                               metadata=m),
        "ListTags": lambda h, m: h.stub.ListTags(pb.ListTagsRequest(account_id=account), timeout=10, metadata=m),
        "CreateAccount": lambda h, m: h.stub.CreateAccount(
            pb.CreateAccountRequest(account_id=account, industry="media"), timeout=10, metadata=m),
        "DeleteTag": lambda h, m: h.stub.DeleteTag(pb.DeleteTagRequest(account_id=account, name="Onboarding"),
                                                   timeout=10, metadata=m),
        "GetModelInfo": lambda h, m: h.stub.GetModelInfo(pb.GetModelInfoRequest(account_id=account), timeout=10,
                                                         metadata=m),
        "SummarizeResponses": lambda h, m: summarize(h, m, account),
    }


def test_every_rpc_of_the_contract_is_covered_here() -> None:
    assert set(on_account("acme")) == set(pb.DESCRIPTOR.services_by_name["Verbatim"].methods_by_name)


def failures(h: Harness) -> dict[str, float]:
    samples = parse(h.server.metrics.exposition().decode())
    return {r: value(samples, "verbatim_auth_failures_total", reason=r)
            for r in ("missing", "malformed", "unknown", "account", "read_only")}


@pytest.mark.parametrize("rpc", sorted(on_account("acme")))
def test_without_a_known_key_every_rpc_is_unauthenticated(server: Harness, rpc: str) -> None:
    call = on_account("acme")[rpc]
    before = failures(server)
    for metadata, reason in ((None, "missing"), ((("authorization", "vbk_acme"),), "malformed"),
                             ((("authorization", "Bearer vbk_guess"),), "unknown")):
        error = rpc_error(lambda: call(server, metadata))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED, (rpc, reason, error.details())
        assert "vbk_" not in (error.details() or "")
    after = failures(server)
    assert {r: after[r] - before[r] for r in after} == \
        {"missing": 1, "malformed": 1, "unknown": 1, "account": 0, "read_only": 0}


@pytest.mark.parametrize("rpc", sorted(on_account("acme")))
def test_a_key_on_another_accounts_data_is_denied(server: Harness, rpc: str) -> None:
    before = failures(server)
    for account in ("", "default"):  # "" is the default account
        error = rpc_error(lambda: on_account(account)[rpc](server, auth("acme")))
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, (rpc, error.details())
        assert "'default'" in (error.details() or "")
    assert failures(server)["account"] - before["account"] == 2


def test_a_summary_stream_without_options_is_the_default_accounts(server: Harness) -> None:
    error = rpc_error(lambda: server.stub.SummarizeResponses(iter([pb.SummarizeResponsesRequest()]), timeout=10,
                                                             metadata=auth("acme")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert summarize(server, auth("acme"), "acme") is not None


@pytest.mark.parametrize("rpc", ["SubmitCorrections", "PutTags", "CreateAccount", "DeleteTag"])
def test_a_read_only_key_may_not_write(server: Harness, rpc: str) -> None:
    error = rpc_error(lambda: on_account("acme")[rpc](server, auth("reader")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "read-only" in (error.details() or "")


@pytest.mark.parametrize("rpc", ["ClassifyComments", "ListTags", "GetModelInfo", "SummarizeResponses"])
def test_a_read_only_key_may_read_its_accounts(server: Harness, rpc: str) -> None:
    on_account("acme")[rpc](server, auth("reader"))


def test_a_scoped_key_writes_its_account_and_each_correction_records_the_key(server: Harness, store: Store) -> None:
    calls = on_account("acme")
    for rpc in ("PutTags", "ListTags", "DeleteTag", "ClassifyComments"):
        calls[rpc](server, auth("acme"))
    mixed = pb.SubmitCorrectionsRequest(corrections=[correction("k-1", "acme"), correction("k-2", "default")])
    assert rpc_error(lambda: server.stub.SubmitCorrections(mixed, timeout=10, metadata=auth("acme"))).code() == \
        grpc.StatusCode.PERMISSION_DENIED  # one correction of another account denies the whole request
    server.stub.SubmitCorrections(mixed, timeout=10, metadata=auth("admin"))
    server.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[correction("k-3", "acme")]), timeout=10,
                                  metadata=auth("acme"))
    stored = {c.correction_id: c.key_name for c in store.corrections()}
    assert {cid: stored[cid] for cid in ("k-1", "k-2", "k-3")} == {"k-1": "admin", "k-2": "admin", "k-3": "acme"}


def test_model_info_without_an_account_shows_a_key_only_its_own(server: Harness) -> None:
    def accounts(name: str) -> list[str]:
        info = server.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10, metadata=auth(name))
        return [a.account_id for a in info.accounts]

    assert accounts("acme") == ["acme"]
    assert accounts("admin") == ["acme", "default"]


def test_health_and_reflection_need_no_key(server: Harness) -> None:
    assert server.health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == \
        health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(server.channel)
    [answer] = list(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                    timeout=5))
    assert "verbatim.v1.Verbatim" in {s.name for s in answer.list_services_response.service}


def test_a_key_over_its_concurrency_limit_is_refused_and_others_still_served(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=1.5)
    keys = {"noisy": ("vbk_noisy", "*", False), "quiet": ("vbk_quiet", "*", False)}
    with serving(slow, api_keys=key_lines(keys), max_concurrent_per_key=2, max_batch_comments=1) as h:
        noisy = (("authorization", "Bearer vbk_noisy"),)
        in_flight = [h.stub.ClassifyComments.future(classify(comment(str(i), f"slow {i}")), timeout=20,
                                                    metadata=noisy) for i in range(2)]
        wait_until(slow.started.is_set)
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("x", "one more")), timeout=10,
                                                          metadata=noisy))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "VERBATIM_MAX_CONCURRENT_PER_KEY" in (error.details() or "") and "2" in (error.details() or "")
        quiet = h.stub.ClassifyComments(classify(comment("q", "quiet")), timeout=20,
                                        metadata=(("authorization", "Bearer vbk_quiet"),))
        assert [c.id for c in quiet.comments] == ["q"]
        assert all(len(f.result().comments) == 1 for f in in_flight)
        # The slots are given back: the noisy key is served again.
        h.stub.ClassifyComments(classify(comment("y", "again")), timeout=20, metadata=noisy)


# Last: the account it creates stays in the module's store.
def test_a_key_creates_only_accounts_in_its_scope(server: Harness, store: Store) -> None:
    request = pb.CreateAccountRequest(account_id="newsroom", industry="media")
    error = rpc_error(lambda: server.stub.CreateAccount(request, timeout=10, metadata=auth("acme")))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and "'newsroom'" in (error.details() or "")
    assert "newsroom" not in store.accounts()
    assert server.stub.CreateAccount(request, timeout=10, metadata=auth("admin")).industry == "media"
    assert store.account_industry("newsroom") == "media"
