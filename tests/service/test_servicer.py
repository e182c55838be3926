"""The Verbatim RPCs, in-process over a real socket, with the tiny random-weight model."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import grpc
import pytest
from google.protobuf.json_format import MessageToDict

from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import Tag, Taxonomy
from tests.service.harness import Harness, RecordingPredictor, classify, comment, rpc_error, serving, wait_until
from verbatim.v1 import verbatim_pb2 as pb


# ---------------------------------------------------------------- ClassifyComments


def test_results_come_back_in_request_order_keyed_by_id(server: Harness, tiny_predictor: Predictor) -> None:
    texts = {"z9": "The Slack integration keeps crashing and support never answers",
             "a1": "too expensive",
             "m5": "Docs are fine but the dashboard is slow to load every single morning",
             "b2": "ok",
             "q7": "We moved from Zendesk and the HubSpot sync is flaky"}
    request = classify(*(comment(cid, text) for cid, text in texts.items()))
    request.comments[1].score, request.comments[1].survey_type = 3, pb.SURVEY_TYPE_NPS
    response = server.stub.ClassifyComments(request, timeout=10)
    assert [c.id for c in response.comments] == list(texts)
    assert response.model_version == tiny_predictor.version
    expected = tiny_predictor.predict(list(texts.values()), "default")
    labels = {"negative": pb.SENTIMENT_LABEL_NEGATIVE, "neutral": pb.SENTIMENT_LABEL_NEUTRAL,
              "positive": pb.SENTIMENT_LABEL_POSITIVE}
    for got, want in zip(response.comments, expected):
        assert [t.name for t in got.tags] == [t.name for t in want.tags]
        for tag, wanted in zip(got.tags, want.tags):
            assert tag.parent == (wanted.parent or "") and tag.HasField("parent") == (wanted.parent is not None)
            assert tag.confidence == pytest.approx(wanted.confidence, abs=1e-4)
            assert pb.TagSource.Name(tag.source) == f"TAG_SOURCE_{wanted.source.value}"
            assert tag.HasField("evidence") == (wanted.evidence is not None)
        assert got.sentiment.label == labels[want.sentiment.label]
        assert got.sentiment.score == pytest.approx(want.sentiment.score, abs=1e-4)
        probs = got.sentiment.probabilities
        assert [probs.negative, probs.neutral, probs.positive] == pytest.approx(
            [want.sentiment.probabilities[k] for k in ("negative", "neutral", "positive")], abs=1e-4)
        assert got.needs_review == want.needs_review


def test_accounts_use_their_own_taxonomy(server: Harness) -> None:
    response = server.stub.ClassifyComments(classify(comment("1", "CSV export of the weekly report"),
                                                     account="acme"), timeout=10)
    acme_tags = {"Reporting", "Mobile app", "Exports"}
    assert {t.name for t in response.comments[0].tags} <= acme_tags


def test_options_filter_tags(server: Harness) -> None:
    text = "Slack integration crashing, support slow and pricing expensive"
    full = server.stub.ClassifyComments(classify(comment("1", text)), timeout=10).comments[0]
    assert full.tags, "the tiny model should give this comment some tags"
    floor = sorted(t.confidence for t in full.tags)[len(full.tags) // 2]
    high = server.stub.ClassifyComments(classify(comment("1", text), min_confidence=floor), timeout=10).comments[0]
    assert [t.name for t in high.tags] == [t.name for t in full.tags if t.confidence >= floor]
    only = server.stub.ClassifyComments(classify(comment("1", text), only_tags=[full.tags[0].name, "Price"]),
                                        timeout=10).comments[0]
    assert [t.name for t in only.tags] == [t.name for t in full.tags if t.name in (full.tags[0].name, "Price")]


BAD_REQUESTS: list[tuple[str, pb.ClassifyCommentsRequest, str]] = [
    ("no comments", classify(), "comments: no comments; send between 1 and 5"),
    ("too many", classify(*(comment(str(i), "hi") for i in range(6))), "comments: 6 comments, the limit is 5"),
    ("empty text", classify(comment("a", "ok"), comment("b", "")), "comments[1].text: must not be empty"),
    ("blank text", classify(comment("a", " \t\n")), "comments[0].text: only whitespace"),
    ("long text", classify(comment("a", "ok"), comment("b", "ok"), comment("c", "x" * 81)),
     "comments[2].text: 81 characters, the limit is 80"),
    ("duplicate id", classify(comment("a", "one"), comment("a", "two")),
     "comments[1].id: duplicate id 'a' (also comments[0].id)"),
    ("empty id", classify(comment("", "one")), "comments[0].id: must not be empty"),
    ("unknown account", classify(comment("a", "one"), account="globex"),
     "account_id: unknown account 'globex'; known accounts: ['acme', 'default']"),
    ("score", classify(comment("a", "one", score=11)),
     "comments[0].score: 11 is outside 0-10 for a comment without survey_type"),
    ("csat score", classify(comment("a", "one", score=6, survey_type=pb.SURVEY_TYPE_CSAT)),
     "comments[0].score: 6 is outside 1-5 for csat"),
    ("unknown tag", classify(comment("a", "one"), only_tags=["Bug", "Bugz"]),
     "options.only_tags[1]: unknown tag 'Bugz' for account 'default'"),
    ("confidence", classify(comment("a", "one"), min_confidence=2), "options.min_confidence: 2 is outside 0-1"),
]


@pytest.mark.parametrize(("request_", "message"), [(r, m) for _, r, m in BAD_REQUESTS],
                         ids=[name for name, _, _ in BAD_REQUESTS])
def test_bad_input_is_invalid_argument_naming_the_field(server: Harness, request_: pb.ClassifyCommentsRequest,
                                                        message: str) -> None:
    error = rpc_error(lambda: server.stub.ClassifyComments(request_, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message)


def test_a_full_queue_answers_resource_exhausted_at_once(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=0.6)
    with serving(slow, queue_capacity=1, max_comments_per_request=1) as h:
        computing = h.stub.ClassifyComments.future(classify(comment("a", "first")), timeout=10)
        assert slow.started.wait(5)
        queued = h.stub.ClassifyComments.future(classify(comment("b", "second")), timeout=10)
        wait_until(lambda: h.server.batcher.depth == 1)
        t0 = time.monotonic()
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("c", "third")), timeout=10))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "0 of 1 free" in error.details()
        assert time.monotonic() - t0 < 0.4  # not after the slow batch
        assert computing.result().comments[0].id == "a" and queued.result().comments[0].id == "b"
        assert "third" not in slow.decided
        assert h.server.batcher.stats.rejected == 1


class EncodeRecorder(RecordingPredictor):
    def __init__(self, base: Predictor, delay: float) -> None:
        super().__init__(base, delay=delay)
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        self.encoded += texts
        return super().encode(texts)


def test_a_full_queue_refuses_before_tokenising_but_an_oversize_request_is_invalid(tiny_predictor: Predictor) -> None:
    slow = EncodeRecorder(tiny_predictor, delay=0.6)
    with serving(slow, queue_capacity=2, max_comments_per_request=2) as h:
        computing = h.stub.ClassifyComments.future(classify(comment("a", "first")), timeout=10)
        assert slow.started.wait(5)
        queued = h.stub.ClassifyComments.future(classify(comment("b", "second"), comment("c", "third")), timeout=10)
        wait_until(lambda: h.server.batcher.depth == 2)
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("d", "fourth")), timeout=10))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "fourth" not in slow.encoded  # refused before any work was spent on it
        oversize = classify(*(comment(str(i), f"text {i}") for i in range(3)))
        error = rpc_error(lambda: h.stub.ClassifyComments(oversize, timeout=10))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT  # retrying would never help
        assert len(computing.result().comments) == 1 and len(queued.result().comments) == 2
        assert h.server.batcher.stats.rejected == 1


def test_an_expired_deadline_is_deadline_exceeded_and_is_not_computed(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=0.6)
    with serving(slow) as h:
        computing = h.stub.ClassifyComments.future(classify(comment("a", "first")), timeout=10)
        assert slow.started.wait(5)
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("b", "impatient")), timeout=0.2))
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        computing.result()
        h.stub.ClassifyComments(classify(comment("c", "after")), timeout=10)  # the worker has moved past b
        assert slow.decided == ["first", "after"]
        assert h.server.batcher.depth == 0


def test_concurrent_requests_share_batches(tiny_predictor: Predictor) -> None:
    with serving(tiny_predictor, max_delay_ms=150) as h:
        requests = [classify(comment(f"r{i}", f"comment number {i} about reports"),
                             account="acme" if i % 2 else "default") for i in range(8)]
        futures = [h.stub.ClassifyComments.future(r, timeout=10) for r in requests]
        responses = [f.result() for f in futures]
        assert [r.comments[0].id for r in responses] == [f"r{i}" for i in range(8)]
        stats = h.server.batcher.stats
        assert stats.comments == 8
        assert stats.max_batch_size > 1 and stats.batches < 8
        assert stats.mean_batch_size > 1


def test_an_unexpected_error_is_internal_without_leaking_details(tiny_predictor: Predictor,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    broken = RecordingPredictor(tiny_predictor, fail=True)
    with caplog.at_level(logging.ERROR, logger="verbatim.service.interceptors"), serving(broken) as h:
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("a", "hello")), timeout=10))
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details().startswith("internal error (ref ") and "secret" not in error.details()
    reference = error.details().split("ref ")[1].split(")")[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None  # with traceback


# ---------------------------------------------------------------- other RPCs


def test_get_model_info(server: Harness, tiny_predictor: Predictor) -> None:
    meta = tiny_predictor.meta
    info = server.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
    assert info.version == meta.version
    assert info.created_at.ToDatetime().isoformat() == meta.created_at.split("+")[0]
    assert [a.account_id for a in info.accounts] == ["acme", "default"]
    default = {t.name: t for t in info.accounts[1].tags}
    assert list(default) == meta.taxonomies["default"].names
    assert default["Slack"].parent == "Integrations" and not default["Bug"].HasField("parent")
    assert "slack" in default["Slack"].keywords
    seed_test = meta.evaluation["seed_test"]
    assert info.summary.theme_micro_f1 == pytest.approx(seed_test["themes"]["micro_f1"])
    assert info.summary.sentiment_accuracy == pytest.approx(seed_test["sentiment"]["accuracy"])
    assert info.summary.test_comments == seed_test["comments"]
    evaluation = MessageToDict(info.evaluation)
    assert evaluation["seed_test"]["themes"]["per_tag"]["Bug"]["f1"] == seed_test["themes"]["per_tag"]["Bug"]["f1"]
    assert MessageToDict(info.training_config)["epochs"] == 1
    assert info.data_fingerprint == meta.data_fingerprint and info.max_length == meta.max_length

    acme = server.stub.GetModelInfo(pb.GetModelInfoRequest(account_id="acme"), timeout=10)
    assert [a.account_id for a in acme.accounts] == ["acme"]
    assert [t.name for t in acme.accounts[0].tags] == ["Reporting", "Mobile app", "Exports"]
    error = rpc_error(lambda: server.stub.GetModelInfo(pb.GetModelInfoRequest(account_id="globex"), timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and error.details().startswith("account_id: unknown")


@pytest.mark.parametrize(("method", "request_"), [
    ("SubmitCorrections", pb.SubmitCorrectionsRequest()),
    ("PutTags", pb.PutTagsRequest()),
    ("ListTags", pb.ListTagsRequest()),
    ("DeleteTag", pb.DeleteTagRequest()),
])
def test_store_rpcs_answer_unimplemented_without_a_store(server: Harness, method: str, request_: Any) -> None:
    # Served for real in tests/service/test_corrections_rpc.py and test_taxonomy_rpc.py.
    error = rpc_error(lambda: getattr(server.stub, method)(request_, timeout=10))
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert error.details() == f"{method} needs a store, and this server was started without one"


def test_validation_and_model_info_follow_the_predictors_live_taxonomies(tiny_predictor: Predictor) -> None:
    live = dict(tiny_predictor.meta.taxonomies) | {"initech": Taxonomy((Tag("Staplers", keywords=("stapler",)),))}
    with serving(tiny_predictor.with_taxonomies(live)) as h:
        response = h.stub.ClassifyComments(classify(comment("1", "my stapler is gone"), account="initech"), timeout=10)
        assert [t.name for t in response.comments[0].tags] == ["Staplers"]  # by its keyword rule alone
        info = h.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
        assert [a.account_id for a in info.accounts] == ["acme", "default", "initech"]
