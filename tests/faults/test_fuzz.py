"""Property tests over every request message of the Verbatim service, against a real server with a
store: random and extreme strings (RTL marks, emoji, combining marks, zero-width characters, NUL
bytes, very long ones), huge repeated fields, and random bytes as the raw request. The server never
crashes and never answers INTERNAL: every call gets OK or INVALID_ARGUMENT (RESOURCE_EXHAUSTED for a
message over VERBATIM_MAX_MESSAGE_BYTES, or for a full queue). The answers by status code are printed
at the end of the module (run with -s, or read the captured output of the last test)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verbatim.models.predictor import Predictor
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import Harness, health_of, serving

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
LIMITS = {"max_comments_per_request": 8, "max_corrections_per_request": 8, "max_text_chars": 300,
          "max_tags_per_account": 40, "max_keywords_per_tag": 6, "max_message_bytes": 64 << 10, "queue_capacity": 64}
ANSWERS = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}
TALLY: Counter[str] = Counter()  # "<rpc> <code>" over the module

# Characters that break naive text handling.
NASTY = ["\u202e", "\u200f", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\U0001f600", "\U0001f468\u200d\U0001f469",
         "e\u0301\u0301\u0301", "\u200b", "\u200d", "\ufeff", "\x00", "\r\n", "\t", " ", "\U0010ffff", "\u0085",
         "\u2028", "%s%n{}", "'; DROP TABLE tags; --", "\\", "\ud7ff"]
texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=12).map("".join),
    st.builds(lambda ch, n: ch * n, st.sampled_from(["a", "\u00e9", "\U0001f600", " ", "\x00"]),
              st.sampled_from([0, 1, 255, 256, 299, 300, 301, 5000, 70_000])),
)
short = st.one_of(st.sampled_from(["", "default", "acme", "Bug", "Slack", "Price", " Bug", "Bug "]), texts)


def stamp(seconds: int) -> Timestamp:
    value = Timestamp()
    value.seconds, value.nanos = seconds, 0
    return value


timestamps = st.one_of(st.none(), st.sampled_from([0, -62135596800, 253402300799, 1767225600, -1 << 40, 1 << 40])
                       .map(stamp))


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'store.db'}") as store, \
            serving(tiny_predictor, {"store": store}, reload_s=0, **LIMITS) as harness:
        yield harness
    summary = ", ".join(f"{key}: {count}" for key, count in sorted(TALLY.items()))
    print(f"\nfuzz: {sum(TALLY.values())} cases; answers by RPC and status code: {summary}")


def answer(rpc: str, call: Callable[[], object], allowed: set[grpc.StatusCode] = ANSWERS) -> None:
    try:
        call()
        code = grpc.StatusCode.OK
    except grpc.RpcError as exc:
        code = exc.code()
        if code not in allowed:
            pytest.fail(f"{rpc} answered {code.name}: {exc.details()}")
    TALLY[f"{rpc} {code.name}"] += 1


def sized(allowed: set[grpc.StatusCode], message: object) -> set[grpc.StatusCode]:
    """Over the byte limit, gRPC's own RESOURCE_EXHAUSTED is the documented answer."""
    if message.ByteSize() > LIMITS["max_message_bytes"]:  # type: ignore[attr-defined]
        return allowed | {grpc.StatusCode.RESOURCE_EXHAUSTED}
    return allowed


comments = st.builds(lambda cid, text, score, survey: pb.Comment(id=cid, text=text, score=score, survey_type=survey),
                     short, texts, st.none() | st.floats(allow_nan=True, allow_infinity=True),
                     st.integers(min_value=-3, max_value=9))


@FUZZ
@given(account=short, items=st.lists(comments, max_size=10) | st.lists(comments, min_size=300, max_size=300),
       confidence=st.none() | st.floats(), only=st.lists(short, max_size=3))
def test_classify_comments(server: Harness, account: str, items: list[pb.Comment], confidence: float | None,
                           only: list[str]) -> None:
    request = pb.ClassifyCommentsRequest(account_id=account, comments=items,
                                         options=pb.ClassifyOptions(min_confidence=confidence, only_tags=only))
    answer("ClassifyComments", lambda: server.stub.ClassifyComments(request, timeout=60),
           sized(ANSWERS | {grpc.StatusCode.RESOURCE_EXHAUSTED}, request))  # a full queue is a documented answer


servable = texts.filter(lambda t: 0 < len(t) <= LIMITS["max_text_chars"] and t.strip())


@FUZZ
@given(account=st.sampled_from(["", "default"]), items=st.lists(servable, min_size=1, max_size=8))
def test_classify_comments_nasty_but_valid(server: Harness, account: str, items: list[str]) -> None:
    """Texts within the limits reach the tokenizer and the model: they must be classified, each one."""
    request = pb.ClassifyCommentsRequest(account_id=account,
                                         comments=[pb.Comment(id=str(i), text=t) for i, t in enumerate(items)])
    response = server.stub.ClassifyComments(request, timeout=60)
    assert [c.id for c in response.comments] == [str(i) for i in range(len(items))]
    TALLY["ClassifyComments (valid) OK"] += 1


@FUZZ
@given(items=st.lists(servable, min_size=1, max_size=8), tag=st.sampled_from(["Bug", "Slack", None]))
def test_submit_corrections_nasty_but_valid(server: Harness, items: list[str], tag: str | None) -> None:
    """Stored unless the text holds a NUL (which the store refuses for every backend alike)."""
    request = pb.SubmitCorrectionsRequest(corrections=[pb.Correction(
        correction_id=f"{uuid.uuid4()}-{i}", comment_id=str(i), text=t, tag=tag,
        action=pb.CORRECTION_ACTION_ADD if tag else pb.CORRECTION_ACTION_UNSPECIFIED,
        sentiment=None if tag else pb.SENTIMENT_LABEL_NEUTRAL, time=stamp(1767225600)) for i, t in enumerate(items)])
    nul = any("\x00" in t for t in items)
    answer("SubmitCorrections (valid)", lambda: server.stub.SubmitCorrections(request, timeout=60),
           {grpc.StatusCode.INVALID_ARGUMENT} if nul else {grpc.StatusCode.OK})


corrections = st.builds(
    lambda cid, account, comment, text, tag, action, sentiment, when, actor: pb.Correction(
        correction_id=cid, account_id=account, comment_id=comment, text=text, tag=tag, action=action,
        sentiment=sentiment, time=when, actor=actor),
    short, short, short, texts, st.none() | short, st.integers(min_value=-1, max_value=4),
    st.none() | st.integers(min_value=-1, max_value=5), timestamps, st.none() | short)


@FUZZ
@given(items=st.lists(corrections, max_size=10))
def test_submit_corrections(server: Harness, items: list[pb.Correction]) -> None:
    request = pb.SubmitCorrectionsRequest(corrections=items)
    answer("SubmitCorrections", lambda: server.stub.SubmitCorrections(request, timeout=60), sized(ANSWERS, request))


tags = st.builds(lambda name, parent, description, keywords: pb.Tag(name=name, parent=parent, description=description,
                                                                   keywords=keywords),
                 short, st.none() | short, texts, st.lists(short, max_size=8))


@FUZZ
@given(account=short, items=st.lists(tags, max_size=6) | st.lists(tags, min_size=50, max_size=50))
def test_put_tags(server: Harness, account: str, items: list[pb.Tag]) -> None:
    request = pb.PutTagsRequest(account_id=account, tags=items)
    answer("PutTags", lambda: server.stub.PutTags(request, timeout=60), sized(ANSWERS, request))


@FUZZ
@given(account=short, name=short)
def test_list_and_delete_tags(server: Harness, account: str, name: str) -> None:
    list_request = pb.ListTagsRequest(account_id=account)
    answer("ListTags", lambda: server.stub.ListTags(list_request, timeout=60), sized(ANSWERS, list_request))
    delete = pb.DeleteTagRequest(account_id=account, name=name)
    answer("DeleteTag", lambda: server.stub.DeleteTag(delete, timeout=60), sized(ANSWERS, delete))


@FUZZ
@given(account=st.none() | short)
def test_get_model_info(server: Harness, account: str | None) -> None:
    request = pb.GetModelInfoRequest(account_id=account)
    answer("GetModelInfo", lambda: server.stub.GetModelInfo(request, timeout=60), sized(ANSWERS, request))


responses = st.builds(
    lambda text, score, survey, when, given, props: pb.SurveyResponse(
        text=text, score=score, survey_type=survey, time=when, given=given, properties=props),
    texts, st.none() | st.integers(min_value=-(1 << 31), max_value=(1 << 31) - 1), st.integers(min_value=-1, max_value=4),
    timestamps, st.none() | st.builds(lambda t, s: pb.GivenLabels(tags=t, sentiment=s),
                                      st.lists(short, max_size=3), st.none() | st.builds(pb.Sentiment)),
    st.dictionaries(short, short, max_size=3))
options = st.builds(lambda account, segment, survey, granularity, min_count: pb.SummaryOptions(
    account_id=account, segment_by=segment, survey_type=survey, granularity=granularity, min_count=min_count),
    short, st.none() | short, st.integers(min_value=-1, max_value=4), st.integers(min_value=-1, max_value=5),
    st.none() | st.integers(min_value=0, max_value=(1 << 32) - 1))


@FUZZ
@given(first=st.none() | options, messages=st.lists(st.lists(responses, max_size=9), max_size=3),
       extra_options=st.booleans())
def test_summarize_responses(server: Harness, first: pb.SummaryOptions | None, messages: list[list[pb.SurveyResponse]],
                             extra_options: bool) -> None:
    stream = [pb.SummarizeResponsesRequest(options=first if k == 0 else (first if extra_options else None),
                                           responses=batch) for k, batch in enumerate(messages or [[]])]
    allowed = ANSWERS | {grpc.StatusCode.RESOURCE_EXHAUSTED}
    for message in stream:
        allowed = sized(allowed, message)
    answer("SummarizeResponses", lambda: server.stub.SummarizeResponses(iter(stream), timeout=60), allowed)


METHODS = [m.name for m in pb.DESCRIPTOR.services_by_name["Verbatim"].methods]


@FUZZ
@given(method=st.sampled_from(METHODS), raw=st.binary(max_size=2048), seed=st.integers(min_value=0, max_value=1 << 16))
def test_random_bytes_as_the_request(server: Harness, method: str, raw: bytes, seed: int) -> None:
    # Half the cases: a valid message of another RPC with random bytes flipped, which parses further.
    if seed % 2:
        noise = bytearray(pb.ClassifyCommentsRequest(comments=[pb.Comment(id="a", text="Slack crashes")])
                          .SerializeToString())
        rng = random.Random(seed)
        for _ in range(rng.randint(1, 4)):
            noise[rng.randrange(len(noise))] = rng.randrange(256)
        raw = bytes(noise)
    full = f"/verbatim.v1.Verbatim/{method}"
    if method == "SummarizeResponses":
        call = server.channel.stream_unary(full, request_serializer=None, response_deserializer=None)
        answer(f"raw {method}", lambda: call(iter([raw]), timeout=60),
               ANSWERS | {grpc.StatusCode.RESOURCE_EXHAUSTED})
    else:
        unary = server.channel.unary_unary(full, request_serializer=None, response_deserializer=None)
        answer(f"raw {method}", lambda: unary(raw, timeout=60), ANSWERS | {grpc.StatusCode.RESOURCE_EXHAUSTED})


def test_the_server_is_still_serving_after_the_fuzz(server: Harness) -> None:
    assert health_of(server) == 1  # SERVING
    assert server.stub.ListTags(pb.ListTagsRequest(), timeout=30).tags
    assert TALLY, "no fuzz case ran"
