"""SubmitCorrections over a real socket, into a real SQLite store, with the tiny model serving."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.predictor import Predictor
from verbatim.store import Action, Store
from tests.service.harness import Harness, rpc_error, serving
from verbatim.v1 import verbatim_pb2 as pb

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
STORED = pb.CorrectionResult.OUTCOME_STORED
DUPLICATE = pb.CorrectionResult.OUTCOME_DUPLICATE


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('corrections') / 'store.db'}"


@pytest.fixture(scope="module")
def store(store_url: str) -> Iterator[Store]:
    with Store(store_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor, store: Store) -> Iterator[Harness]:
    with serving(tiny_predictor, {"store": store}, max_comments_per_request=5, max_corrections_per_request=5,
                 max_text_chars=80) as harness:
        yield harness


def correction(cid: str, tag: str | None = "Bug", action: int = pb.CORRECTION_ACTION_ADD, **fields: Any) -> pb.Correction:
    stamp = Timestamp()
    stamp.FromDatetime(WHEN)
    values: dict[str, Any] = {"correction_id": cid, "comment_id": f"comment-{cid}", "text": "The app crashes on login",
                              "action": action, "actor": "ana@example.com", "time": stamp}
    if tag is not None:
        values["tag"] = tag
    return pb.Correction(**(values | fields))


def submit(h: Harness, *corrections: pb.Correction) -> list[tuple[str, int]]:
    response = h.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=corrections), timeout=10)
    return [(r.correction_id, r.outcome) for r in response.results]


def test_a_correction_is_committed_before_the_rpc_answers(server: Harness, store_url: str) -> None:
    assert submit(server, correction("c-durable", predicted_by_model=True, action=pb.CORRECTION_ACTION_REMOVE,
                                     sentiment=pb.SENTIMENT_LABEL_NEGATIVE)) == [("c-durable", STORED)]
    # A second, independent connection sees it: it was committed, not just written in a session.
    with Store(store_url) as other:
        [stored] = [c for c in other.corrections("default") if c.correction_id == "c-durable"]
    assert (stored.account_id, stored.comment_id, stored.text) == ("default", "comment-c-durable",
                                                                   "The app crashes on login")
    assert (stored.tag, stored.action, stored.predicted_by_model) == ("Bug", Action.REMOVE, True)
    assert (stored.sentiment, stored.actor, stored.time) == ("negative", "ana@example.com", WHEN)


def test_a_sentiment_only_correction_relabels_the_comment(server: Harness, store: Store) -> None:
    assert submit(server, correction("c-sentiment", tag=None, action=pb.CORRECTION_ACTION_UNSPECIFIED,
                                     sentiment=pb.SENTIMENT_LABEL_POSITIVE)) == [("c-sentiment", STORED)]
    [labels] = [s for s in store.label_states("default") if s.comment_id == "comment-c-sentiment"]
    assert labels.sentiment == "positive" and not labels.tags


def test_a_tag_sentiment_is_stored_with_its_add(server: Harness, store: Store) -> None:
    assert submit(server, correction("c-tag-sentiment", tag="Price", sentiment=pb.SENTIMENT_LABEL_POSITIVE,
                                     tag_sentiment=pb.SENTIMENT_LABEL_NEGATIVE)) == [("c-tag-sentiment", STORED)]
    [labels] = [s for s in store.label_states("default") if s.comment_id == "comment-c-tag-sentiment"]
    assert labels.sentiment == "positive"
    assert [(t.tag, t.sentiment) for t in labels.tags] == [("Price", "negative")]


def test_corrections_are_idempotent_on_correction_id(server: Harness, store: Store) -> None:
    before = store.count_corrections()
    first = correction("c-idem-1", tag="Price")
    assert submit(server, first, correction("c-idem-2")) == [("c-idem-1", STORED), ("c-idem-2", STORED)]
    # A retry of the whole request, and the same id twice in one request.
    assert submit(server, first, correction("c-idem-2")) == [("c-idem-1", DUPLICATE), ("c-idem-2", DUPLICATE)]
    assert submit(server, correction("c-idem-3"), correction("c-idem-3")) == [("c-idem-3", STORED),
                                                                             ("c-idem-3", DUPLICATE)]
    assert store.count_corrections() == before + 3


def test_a_second_action_on_one_id_with_different_content_is_invalid_argument(server: Harness,
                                                                               store: Store) -> None:
    submit(server, correction("c-conflict"))
    before = store.count_corrections()
    error = rpc_error(lambda: submit(server, correction("c-new-in-same-batch"),
                                     correction("c-conflict", action=pb.CORRECTION_ACTION_REMOVE)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == ("correction_id 'c-conflict' was already used for a different correction "
                               "(differs in: action); a correction_id must not be reused")
    assert store.count_corrections() == before  # all or nothing: the good one in the batch was not stored


BAD: list[tuple[str, list[pb.Correction], str]] = [
    ("unknown tag", [correction("b1", tag="Bugz")],
     "corrections[0].tag: unknown tag 'Bugz' in the taxonomy of account 'default'"),
    ("unknown account", [correction("b1", account_id="globex")], "corrections[0].account_id: unknown account 'globex'"),
    ("empty text", [correction("b1"), correction("b2", text="  ")],
     "corrections[1].text: must not be empty: the text is the training example"),
    ("text over the limit", [correction("b1", text="x" * 81)], "corrections[0].text: 81 characters, the limit is 80"),
    ("too many", [correction(f"b{i}") for i in range(6)], "corrections: 6 corrections, the limit is 5 per request"),
    ("empty id", [correction("")], "corrections[0].correction_id: must not be empty"),
    ("no time", [correction("b1", time=None)], "corrections[0].time: must be set"),
    ("tag without action", [correction("b1", action=pb.CORRECTION_ACTION_UNSPECIFIED)],
     "corrections[0].action: must be ADD or REMOVE when a tag is given"),
    ("unknown action", [correction("b1", action=7)], "corrections[0].action: unknown value 7"),
    ("empty tag", [correction("b1", tag="")], "corrections[0].tag: must not be empty when set"),
    ("says nothing", [correction("b1", tag=None, action=pb.CORRECTION_ACTION_UNSPECIFIED)],
     "corrections[0].sentiment: must be set when no tag is given"),
    ("action without tag", [correction("b1", tag=None, sentiment=pb.SENTIMENT_LABEL_NEUTRAL)],
     "corrections[0].action: must be unset when no tag is given"),
    ("unknown sentiment", [correction("b1", sentiment=9)], "corrections[0].sentiment: unknown value 9"),
    ("unknown tag sentiment", [correction("b1", tag_sentiment=9)], "corrections[0].tag_sentiment: unknown value 9"),
    ("tag sentiment on a REMOVE", [correction("b1", action=pb.CORRECTION_ACTION_REMOVE,
                                              tag_sentiment=pb.SENTIMENT_LABEL_NEGATIVE)],
     "corrections[0].tag_sentiment: may only be set on an ADD of a tag"),
]


@pytest.mark.parametrize(("corrections", "message"), [(c, m) for _, c, m in BAD], ids=[n for n, _, _ in BAD])
def test_bad_input_is_invalid_argument_naming_the_problem(server: Harness, store: Store,
                                                          corrections: list[pb.Correction], message: str) -> None:
    before = store.count_corrections()
    error = rpc_error(lambda: submit(server, *corrections))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(message), error.details()
    assert store.count_corrections() == before


def test_a_correction_on_a_custom_tag_is_accepted_once_the_tag_exists(server: Harness) -> None:
    first = correction("c-custom", tag="Shipping", account_id="initech")
    assert rpc_error(lambda: submit(server, first)).code() == grpc.StatusCode.INVALID_ARGUMENT
    server.stub.PutTags(pb.PutTagsRequest(account_id="initech", tags=[pb.Tag(name="Shipping")]), timeout=10)
    assert submit(server, first) == [("c-custom", STORED)]
    server.stub.DeleteTag(pb.DeleteTagRequest(account_id="initech", name="Shipping"), timeout=10)
    # History stays: a retry after the tag was deleted is still a harmless duplicate.
    assert submit(server, first) == [("c-custom", DUPLICATE)]


def test_concurrent_retries_store_each_correction_exactly_once(server: Harness, store: Store) -> None:
    shared = [correction(f"c-race-{i}", tag="Support") for i in range(4)]
    outcomes: Counter[tuple[str, int]] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    before = store.count_corrections()

    def client(k: int) -> None:
        try:
            for round_ in range(5):
                # Every client sends the same shared ids, plus one id of its own per round.
                got = submit(server, *shared, correction(f"c-race-own-{k}-{round_}", tag="Price"))
                with lock:
                    outcomes.update(got)
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for c in shared:  # exactly one client stored it; every other attempt was a duplicate
        assert outcomes[(c.correction_id, STORED)] == 1 and outcomes[(c.correction_id, DUPLICATE)] == 6 * 5 - 1
    assert sum(n for (cid, outcome), n in outcomes.items() if cid.startswith("c-race-own") and outcome == STORED) \
        == 6 * 5
    assert store.count_corrections() == before + 4 + 6 * 5

