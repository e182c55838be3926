"""The blocking client against a real server (tiny model, SQLite store) on a 127.0.0.1 socket.

Expected values come from the raw stubs (tests.service.harness) on the same server, not from the
client's own conversion.
"""

from __future__ import annotations

from datetime import datetime, timezone

import grpc
import pytest

from tests.clients.conftest import MAX_COMMENTS
from tests.service.harness import Harness
from verbatim.models.predictor import Predictor
from verbatim.v1 import verbatim_pb2 as pb
from verbatim_client import (Account, Client, ClassifiedComment, Comment, Correction, CorrectionAction,
                             CorrectionOutcome, SentimentLabel, SurveyType, Tag, TagSource, VerbatimError)

TEXTS = ["The Slack integration keeps crashing", "Support answered within minutes", "Way too expensive",
         "Pages take forever to load", "Please add a dark mode", "Salesforce sync works perfectly",
         "The docs are outdated", "Zendesk tickets link nicely"]


def raw(server: Harness, texts: list[str], account: str = "") -> list[pb.ClassifiedComment]:
    request = pb.ClassifyCommentsRequest(account_id=account,
                                         comments=[pb.Comment(id=str(i), text=t) for i, t in enumerate(texts)])
    return list(server.stub.ClassifyComments(request, timeout=10).comments)


def same(result: ClassifiedComment, expected: pb.ClassifiedComment) -> None:
    """`result` says what the raw protobuf answer says."""
    assert result.id == expected.id
    assert [(t.name, t.parent, t.source.name, round(t.confidence, 5)) for t in result.tags] == [
        (t.name, t.parent if t.HasField("parent") else None, pb.TagSource.Name(t.source).removeprefix("TAG_SOURCE_"),
         round(t.confidence, 5)) for t in expected.tags]
    assert result.sentiment.label.name == pb.SentimentLabel.Name(expected.sentiment.label).removeprefix(
        "SENTIMENT_LABEL_")
    assert result.sentiment.score == pytest.approx(expected.sentiment.score)
    assert result.sentiment.probabilities.negative == pytest.approx(expected.sentiment.probabilities.negative)
    assert result.needs_review == expected.needs_review


def test_classify_returns_frozen_dataclasses_matching_the_raw_answer(server: Harness, target: str,
                                                                     tiny_predictor: Predictor) -> None:
    with Client(target) as client:
        results = client.classify(TEXTS[:3])
    for result, expected in zip(results, raw(server, TEXTS[:3]), strict=True):
        same(result, expected)
        assert result.model_version == tiny_predictor.version
    with pytest.raises(AttributeError):
        results[0].id = "changed"  # type: ignore[misc]
    assert isinstance(results[0].sentiment.label, SentimentLabel) and results[0].sentiment.label in set(SentimentLabel)


def test_score_and_survey_type_reach_the_server(target: str) -> None:
    with Client(target) as client:
        [result] = client.classify([Comment("c1", "fine", score=4, survey_type=SurveyType.CSAT)])
        assert result.id == "c1"
        with pytest.raises(VerbatimError) as info:  # 6 is a fine NPS score but not a CSAT one
            client.classify([Comment("c1", "fine", score=6, survey_type=SurveyType.CSAT)])
    assert info.value.details == "comments[0].score: 6 is outside 1-5 for csat"


def test_classify_many_chunks_past_the_server_limit_and_keeps_the_input_order(server: Harness, target: str) -> None:
    texts = [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(4 * MAX_COMMENTS + 3)]
    expected = [c for start in range(0, len(texts), MAX_COMMENTS)
                for c in raw(server, texts[start:start + MAX_COMMENTS])]
    with Client(target) as client:
        with pytest.raises(VerbatimError, match="the limit is 5 per request"):
            client.classify(texts)  # one request is refused: the server's limit is real
        learned = client.classify_many(texts, max_in_flight=3)  # learns the limit from the refusal
        given = client.classify_many(texts, batch_size=2, max_in_flight=4)
    for results in (learned, given):
        assert [r.id for r in results] == [str(i) for i in range(len(texts))]
        for result, raw_result in zip(results, expected, strict=True):
            same(result, pb.ClassifiedComment(id=result.id, tags=raw_result.tags, sentiment=raw_result.sentiment,
                                              needs_review=raw_result.needs_review))


def test_classify_many_keeps_caller_ids_and_refuses_repeated_ones(target: str) -> None:
    comments = [Comment(id=f"row-{9 - i}", text=TEXTS[i % len(TEXTS)]) for i in range(9)]
    with Client(target) as client:
        assert [r.id for r in client.classify_many(comments, batch_size=4)] == [c.id for c in comments]
        with pytest.raises(ValueError, match="comments\\[2\\].id 'a' repeats comments\\[0\\].id"):
            client.classify_many([Comment("a", "x"), Comment("b", "y"), Comment("a", "z")])


def test_classify_many_shows_progress_when_asked(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    with Client(target) as client:
        client.classify_many(TEXTS * 2, batch_size=3)
        assert capsys.readouterr().err == ""
        client.classify_many(TEXTS * 2, batch_size=3, progress=True)
    assert "16/16" in capsys.readouterr().err


def test_a_refused_request_names_the_field_and_is_not_retried(target: str) -> None:
    with Client(target) as client, pytest.raises(VerbatimError) as info:
        client.classify(["ok", "x" * 81])
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT and info.value.attempts == 1
    assert info.value.details == "comments[1].text: 81 characters, the limit is 80"


def test_taxonomy_round_trip(target: str) -> None:
    shipping = Tag("Shipping", description="Deliveries.", keywords=("late delivery", "courier"))
    returns = Tag("Returns", parent="Shipping", keywords=("refund",))
    with Client(target) as client:
        assert client.put_tags([shipping, returns], account="shop") == [shipping, returns]
        assert client.list_tags(account="shop") == [shipping, returns]
        [result] = client.classify(["the courier lost it"], account="shop")
        assert [t.name for t in result.tags] == ["Shipping"] and result.tags[0].evidence == "courier"
        [result] = client.classify(["I want a refund"], account="shop")  # served by rules: a new account
        assert [(t.path, t.parent, t.source, t.evidence) for t in result.tags] == [
            ("Shipping", None, TagSource.RULE, "refund"),
            ("Shipping \u203a Returns", "Shipping", TagSource.RULE, "refund")]
        with pytest.raises(VerbatimError, match="INVALID_ARGUMENT"):
            client.delete_tag("Shipping", account="shop")  # still Returns' parent
        assert client.delete_tag("Returns", account="shop") == [shipping]
        default = client.list_tags()
    assert [t.name for t in default][:2] == ["Bug", "Competition"]


def test_corrections_are_chunked_stored_and_idempotent(target: str, store: object) -> None:
    when = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
    corrections = [Correction(correction_id=f"k{i}", comment_id=f"comment-{i}", text="The app crashes on login",
                              time=when, tag="Bug", action=CorrectionAction.ADD if i % 2 else CorrectionAction.REMOVE,
                              predicted_by_model=bool(i % 3), actor="ana@example.com")
                   for i in range(2 * MAX_COMMENTS + 2)]
    corrections.append(Correction(correction_id="k-sentiment", comment_id="comment-s", text="meh", time=when,
                                  sentiment=SentimentLabel.NEUTRAL))
    with Client(target) as client:
        first = client.submit_corrections(corrections)
        again = client.submit_corrections(corrections, batch_size=4)
    assert [r.correction_id for r in first] == [c.correction_id for c in corrections]
    assert {r.outcome for r in first} == {CorrectionOutcome.STORED}
    assert [r.outcome for r in again] == [CorrectionOutcome.DUPLICATE] * len(corrections)


def test_model_info(target: str, tiny_predictor: Predictor) -> None:
    seed_test = tiny_predictor.meta.evaluation["seed_test"]
    with Client(target) as client:
        info = client.get_model_info()
        client.put_tags([Tag("Reporting", keywords=("report",)), Tag("Exports", parent="Reporting")], account="bi")
        bi = client.get_model_info(account="bi")
    assert info.version == tiny_predictor.version and info.created_at is not None
    assert "default" in info.accounts and set(bi.accounts) == {"bi"}
    assert [(t.name, t.parent) for t in bi.accounts["bi"]] == [("Reporting", None), ("Exports", "Reporting")]
    assert [t.name for t in info.accounts["default"]][:2] == ["Bug", "Competition"]
    assert info.summary.theme_micro_f1 == pytest.approx(seed_test["themes"]["micro_f1"])
    assert info.summary.test_comments == seed_test["comments"]
    assert info.training_config["epochs"] == 1 and info.max_length == 64


def test_create_account_starts_from_its_industrys_taxonomy(target: str) -> None:
    with Client(target) as client:
        account = client.create_account("client-shop", industry="ecommerce")
        assert isinstance(account, Account) and (account.account_id, account.industry) == ("client-shop", "ecommerce")
        assert [t.name for t in account.tags][:2] == ["Delivery", "Returns & refunds"]
        assert "parcel" in account.tags[0].keywords
        assert client.list_tags(account="client-shop") == list(account.tags)
        assert client.create_account("client-saas").industry == "saas"  # empty: saas
        assert client.get_model_info().industries["client-shop"] == "ecommerce"
        with pytest.raises(VerbatimError) as exists:
            client.create_account("client-shop", industry="media")
        with pytest.raises(VerbatimError) as unknown:
            client.create_account("client-other", industry="retail")
    assert exists.value.code == grpc.StatusCode.ALREADY_EXISTS and exists.value.attempts == 1
    assert exists.value.details == "account_id: account 'client-shop' already exists"
    assert unknown.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert unknown.value.details == "industry: unknown industry 'retail'; expected one of ecommerce, media, saas"
