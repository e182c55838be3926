"""Slow CPU work of a request stays off the event loop: a health check answers at once while a request
is tokenised or every account's keyword rules are rebuilt after a taxonomy change.

The slow work is a predictor whose step sleeps for SLOW_S: on the loop it would hold every other RPC
for that long, off it the health check answers in a small fraction of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import Taxonomy
from verbatim.store import Store
from tests.service.harness import Harness, classify, comment, serving
from tests.service.summary_stream import START, timestamp
from verbatim.v1 import verbatim_pb2 as pb

SLOW_S = 1.5
HEALTHY_S = SLOW_S / 4  # generous: a health check takes milliseconds, even on a busy 2-core machine


class SlowPredictor(Predictor):
    """The tiny model, whose tokenising or rule building sleeps for `delay` once `armed` is set."""

    armed = threading.Event()
    busy = threading.Event()
    slow_step = "encode"

    def _sleep(self, step: str) -> None:
        if self.armed.is_set() and step == self.slow_step:
            self.busy.set()
            time.sleep(SLOW_S)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        self._sleep("encode")
        return super().encode(texts)

    def with_taxonomies(self, taxonomies: dict[str, Taxonomy],
                        industries: Mapping[str, str] | None = None) -> Predictor:
        self._sleep("rules")
        return SlowPredictor(self.artifact, self.backend, taxonomies, industries)


@pytest.fixture()
def slow(tiny_predictor: Predictor, monkeypatch: pytest.MonkeyPatch) -> SlowPredictor:
    monkeypatch.setattr(SlowPredictor, "armed", threading.Event())
    monkeypatch.setattr(SlowPredictor, "busy", threading.Event())
    return SlowPredictor(tiny_predictor.artifact, tiny_predictor.backend)


def health_seconds(h: Harness) -> float:
    started = time.perf_counter()
    answer = h.health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    return time.perf_counter() - started


def while_busy(h: Harness, start: grpc.Future) -> float:
    """The health check's latency measured while the slow step runs; the slow call must then succeed."""
    if not SlowPredictor.busy.wait(10):
        start.result(timeout=1)  # its error says why
        raise AssertionError("the slow step never started")
    seconds = health_seconds(h)
    start.result(timeout=30)
    return seconds


def test_health_answers_while_a_large_request_is_tokenised(slow: SlowPredictor) -> None:
    with serving(slow) as h:
        health_seconds(h)  # warm the channel
        SlowPredictor.armed.set()
        texts = [comment(str(i), "The Slack integration keeps crashing. " * 130) for i in range(256)]
        call = h.stub.ClassifyComments.future(classify(*texts), timeout=30)
        assert while_busy(h, call) < HEALTHY_S


def test_health_answers_while_a_summary_is_tokenised(slow: SlowPredictor) -> None:
    with serving(slow) as h:
        health_seconds(h)
        SlowPredictor.armed.set()
        message = pb.SummarizeResponsesRequest(responses=[
            pb.SurveyResponse(text=f"Pricing is too high for small teams {i}", score=3, time=timestamp(START),
                              survey_type=pb.SURVEY_TYPE_NPS)
            for i in range(64)])
        call = h.stub.SummarizeResponses.future(iter([message]), timeout=30)
        assert while_busy(h, call) < HEALTHY_S


@pytest.fixture()
def store(tmp_path: Path, tiny_predictor: Predictor) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        opened.put_tags("acme", list(tiny_predictor.taxonomy("acme").tags))
        yield opened


def test_health_answers_while_keyword_rules_are_rebuilt(slow: SlowPredictor, store: Store) -> None:
    SlowPredictor.slow_step = "rules"
    try:
        with serving(slow, {"store": store}) as h:
            health_seconds(h)
            SlowPredictor.armed.set()
            call = h.stub.PutTags.future(pb.PutTagsRequest(account_id="acme", tags=[
                pb.Tag(name="Onboarding", keywords=["onboarding"])]), timeout=30)
            assert while_busy(h, call) < HEALTHY_S
            # The change is served once PutTags answers: the rebuilt rules match.
            answer = h.stub.ClassifyComments(classify(comment("1", "Onboarding was confusing"), account="acme"),
                                             timeout=30)
            assert "Onboarding" in {tag.name for tag in answer.comments[0].tags}
    finally:
        SlowPredictor.slow_step = "encode"
