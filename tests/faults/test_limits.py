"""Every request limit of ServiceConfig, enforced by a real server with a store: a request at the
limit is served, one past it is refused with an error naming the field and the limit, and a refused
PutTags changes nothing. The limits are set small here, so the expected numbers are the ones below."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import Harness, classify, comment, rpc_error, serving

COMMENTS, CHARS, CORRECTIONS, TAGS, KEYWORDS, MESSAGE = 3, 50, 2, len(DEFAULT_TAXONOMY.tags) + 5, 3, 4096


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with Store(f"sqlite:///{tmp_path_factory.mktemp('limits') / 'store.db'}") as store, \
            serving(tiny_predictor, {"store": store}, reload_s=0, max_comments_per_request=COMMENTS,
                    queue_capacity=COMMENTS, max_text_chars=CHARS, max_corrections_per_request=CORRECTIONS,
                    max_tags_per_account=TAGS, max_keywords_per_tag=KEYWORDS, max_message_bytes=MESSAGE) as h:
        yield h


def refused(call: object) -> grpc.RpcError:
    error = rpc_error(call)  # type: ignore[arg-type]
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    return error


def correction(cid: str) -> pb.Correction:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 1, 2, tzinfo=timezone.utc))
    return pb.Correction(correction_id=cid, comment_id=cid, text="The export crashes", tag="Bug",
                         action=pb.CORRECTION_ACTION_ADD, time=stamp)


def test_comments_per_request(server: Harness) -> None:
    at_limit = [comment(str(i), "Slack crashes") for i in range(COMMENTS)]
    assert len(server.stub.ClassifyComments(classify(*at_limit), timeout=30).comments) == COMMENTS
    error = refused(lambda: server.stub.ClassifyComments(classify(*at_limit, comment("x", "one more")), timeout=30))
    assert error.details() == "comments: 4 comments, the limit is 3 per request"


def test_characters_per_comment(server: Harness) -> None:
    assert server.stub.ClassifyComments(classify(comment("a", "y" * CHARS)), timeout=30).comments
    error = refused(lambda: server.stub.ClassifyComments(classify(comment("a", "y" * (CHARS + 1))), timeout=30))
    assert error.details() == "comments[0].text: 51 characters, the limit is 50"


def test_corrections_per_request_is_its_own_limit(server: Harness) -> None:
    # 3 corrections would pass the comments' limit of 3: the corrections' limit of 2 applies.
    ok = server.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[correction("c1"), correction("c2")]),
                                       timeout=30)
    assert len(ok.results) == CORRECTIONS
    error = refused(lambda: server.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(
        corrections=[correction(f"d{i}") for i in range(3)]), timeout=30))
    assert error.details() == "corrections: 3 corrections, the limit is 2 per request"


def test_keywords_per_tag(server: Harness) -> None:
    ok = pb.Tag(name="Kw ok", keywords=["a", "b", "c"])
    assert server.stub.PutTags(pb.PutTagsRequest(account_id="kw", tags=[ok]), timeout=30)
    error = refused(lambda: server.stub.PutTags(pb.PutTagsRequest(
        account_id="kw", tags=[ok, pb.Tag(name="Kw many", keywords=["a", "b", "c", "d"])]), timeout=30))
    assert error.details() == "tags[1].keywords: 4 keywords, the limit is 3 per tag"
    assert [t.name for t in server.stub.ListTags(pb.ListTagsRequest(account_id="kw"), timeout=30).tags] == ["Kw ok"]


def test_tags_per_account_counts_the_stored_taxonomy_too(server: Harness) -> None:
    stored = len(DEFAULT_TAXONOMY.tags)  # the default account starts with the shipped taxonomy
    room = TAGS - stored
    server.stub.PutTags(pb.PutTagsRequest(tags=[pb.Tag(name=f"Extra {i}") for i in range(room)]), timeout=30)
    error = refused(lambda: server.stub.PutTags(pb.PutTagsRequest(tags=[pb.Tag(name="One too many")]), timeout=30))
    assert error.details() == f"tags: account 'default' would have {TAGS + 1} tags, the limit is {TAGS} per account"
    assert len(server.stub.ListTags(pb.ListTagsRequest(), timeout=30).tags) == TAGS  # nothing written
    # Re-putting existing tags does not grow the taxonomy, so it stays allowed at the limit.
    assert len(server.stub.PutTags(pb.PutTagsRequest(tags=[pb.Tag(name="Extra 0", description="again")]),
                                   timeout=30).tags) == TAGS
    error = refused(lambda: server.stub.PutTags(pb.PutTagsRequest(
        account_id="new", tags=[pb.Tag(name=f"T{i}") for i in range(TAGS + 1)]), timeout=30))
    assert error.details() == f"tags: {TAGS + 1} tags, the limit is {TAGS} per account"


def test_message_size(server: Harness) -> None:
    # Over the byte limit but within every other one: refused naming the setting, not worth a retry.
    big = classify(comment("a", "z"), account="a" * (MESSAGE + 10))
    assert MESSAGE < big.ByteSize() <= 2 * MESSAGE
    error = rpc_error(lambda: server.stub.ClassifyComments(big, timeout=30))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == (f"request: {big.ByteSize()} bytes, the limit is {MESSAGE} per message "
                               "(VERBATIM_MAX_MESSAGE_BYTES)")
    # far over it, gRPC itself refuses the message before reading it, naming both sizes
    huge = classify(comment("a", "z"), account="a" * (3 * MESSAGE))
    error = rpc_error(lambda: server.stub.ClassifyComments(huge, timeout=30))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"vs. {2 * MESSAGE})" in error.details()
    assert server.stub.ClassifyComments(classify(comment("a", "still serving")), timeout=30).comments


@pytest.mark.parametrize(("env", "expected"), [
    ({"VERBATIM_MAX_CORRECTIONS_PER_REQUEST": "0"}, "VERBATIM_MAX_CORRECTIONS_PER_REQUEST is '0': expected an integer"),
    ({"VERBATIM_MAX_TAGS_PER_ACCOUNT": "many"}, "VERBATIM_MAX_TAGS_PER_ACCOUNT is 'many': expected an integer"),
    ({"VERBATIM_MAX_KEYWORDS_PER_TAG": "-1"}, "VERBATIM_MAX_KEYWORDS_PER_TAG is '-1': expected an integer"),
    ({"VERBATIM_MAX_MESSAGE_BYTES": "10"}, "VERBATIM_MAX_MESSAGE_BYTES is '10': expected an integer number of bytes"),
    ({"VERBATIM_LOG_COMMENT_TEXT": "maybe"}, "VERBATIM_LOG_COMMENT_TEXT is 'maybe': expected true or false"),
])
def test_a_bad_limit_names_its_key(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        ServiceConfig.from_sources({}, env=env)
    assert expected in str(info.value)


def test_every_limit_is_in_the_readme_configuration_table() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for key in ("MAX_MESSAGE_BYTES", "MAX_COMMENTS_PER_REQUEST", "MAX_TEXT_CHARS", "MAX_TAGS_PER_ACCOUNT",
                "MAX_KEYWORDS_PER_TAG", "MAX_CORRECTIONS_PER_REQUEST", "LOG_COMMENT_TEXT"):
        assert f"| `VERBATIM_{key}` |" in readme, key
    assert ServiceConfig.from_sources({}, {"VERBATIM_LOG_COMMENT_TEXT": "true"}).log_comment_text is True
    assert ServiceConfig().log_comment_text is False
