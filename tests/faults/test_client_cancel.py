"""A client that cancels or disconnects mid-batch, over a real socket: the other requests of its batch
get their whole answers, comments of its that no batch has started are never computed, and the server
carries on without an error in its log.

The model takes 0.5 s a batch (the tiny one, slowed): a first request occupies it, the next ones
queue behind it (the test waits until the server's queue holds them) and then share one batch.
"""

from __future__ import annotations

import logging
import time

import grpc
import pytest

from verbatim.models.predictor import Predictor
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import Harness, RecordingPredictor, classify, comment, serving

DELAY_S = 0.5


def _texts(prefix: str, n: int) -> list[str]:
    return [f"{prefix} {i}: the Slack export crashes" for i in range(n)]


def _wait_queued(harness: Harness, comments: int) -> None:
    deadline = time.monotonic() + 10
    while harness.server.batcher.depth != comments:
        assert time.monotonic() < deadline, f"queue depth {harness.server.batcher.depth}, expected {comments}"
        time.sleep(0.005)


def _request(prefix: str, n: int) -> pb.ClassifyCommentsRequest:
    return classify(*(comment(f"{prefix}{i}", text) for i, text in enumerate(_texts(prefix, n))))


def test_a_cancelled_request_breaks_no_other_and_its_queued_comments_are_not_computed(
        tiny_predictor: Predictor, caplog: pytest.LogCaptureFixture) -> None:
    predictor = RecordingPredictor(tiny_predictor, delay=DELAY_S)
    caplog.set_level(logging.INFO)
    with serving(predictor) as harness, grpc.insecure_channel(f"127.0.0.1:{harness.port}") as other:
        gone_client, kept_client = harness.stub, type(harness.stub)(other)  # two connections

        # 1. Cancelled while queued: never computed.
        busy = kept_client.ClassifyComments.future(_request("busy", 1), timeout=30)
        assert predictor.started.wait(10)
        gone = gone_client.ClassifyComments.future(_request("gone", 4), timeout=30)
        kept = kept_client.ClassifyComments.future(_request("kept", 2), timeout=30)
        _wait_queued(harness, 6)  # both behind the busy batch
        assert gone.cancel()
        assert [c.id for c in kept.result().comments] == ["kept0", "kept1"]
        assert busy.result().comments and gone.cancelled()
        assert not set(_texts("gone", 4)) & set(predictor.decided)
        assert set(_texts("kept", 2)) <= set(predictor.decided)

        # 2. Cancelled while its batch computes: the batch's other request is answered in full.
        predictor.started.clear()
        busy = kept_client.ClassifyComments.future(_request("busy2", 1), timeout=30)
        assert predictor.started.wait(10)
        predictor.started.clear()
        mixed_gone = gone_client.ClassifyComments.future(_request("mid", 3), timeout=30)
        mixed_kept = kept_client.ClassifyComments.future(_request("with", 3), timeout=30)
        _wait_queued(harness, 6)
        assert predictor.started.wait(10)  # "mid" and "with" now share the batch being computed
        assert mixed_gone.cancel()
        answer = mixed_kept.result()
        assert [c.id for c in answer.comments] == ["with0", "with1", "with2"]
        assert all(c.tags for c in answer.comments)  # "Slack", by its keyword at least

        # 3. A client whose connection goes away mid-batch.
        lost = grpc.insecure_channel(f"127.0.0.1:{harness.port}")
        predictor.started.clear()
        busy = kept_client.ClassifyComments.future(_request("busy3", 1), timeout=30)
        assert predictor.started.wait(10)
        grpc_lost = type(harness.stub)(lost).ClassifyComments.future(_request("lost", 3), timeout=30)
        after = kept_client.ClassifyComments.future(_request("after", 2), timeout=30)
        _wait_queued(harness, 5)
        lost.close()
        assert [c.id for c in after.result().comments] == ["after0", "after1"]
        assert grpc_lost.exception() is not None  # its channel is gone
        assert not set(_texts("lost", 3)) & set(predictor.decided)
        assert len(harness.stub.ClassifyComments(_request("next", 5), timeout=30).comments) == 5
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
