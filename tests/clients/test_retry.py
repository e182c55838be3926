"""Retries against a real gRPC server on a socket: which codes, how many, the budget, the deadline."""

from __future__ import annotations

import random
import socket
import time

import grpc
import pytest

from tests.clients.fake_server import OK, scripted
from verbatim_client import Client, RetryBudget, RetryPolicy, SentimentLabel, TagSource, VerbatimError
from verbatim_client.retry import Retrier

FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)
EXHAUSTED, UNAVAILABLE, INVALID = (grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE,
                                   grpc.StatusCode.INVALID_ARGUMENT)


def test_resource_exhausted_twice_then_ok_is_retried_to_the_answer() -> None:
    with scripted(EXHAUSTED, EXHAUSTED, OK) as (target, servicer), Client(target, retry=FAST) as client:
        [result] = client.classify(["the app crashes"])
    assert len(servicer.calls) == 3
    assert result.model_version == "fake-1" and result.sentiment.label is SentimentLabel.NEGATIVE
    assert [(t.name, t.source, t.confidence) for t in result.tags] == [("Bug", TagSource.MODEL, 0.75)]


def test_unavailable_is_retried_until_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.01)
    with scripted(UNAVAILABLE) as (target, servicer), Client(target, retry=policy) as client:
        with pytest.raises(VerbatimError) as info:
            client.classify(["x"])
    assert len(servicer.calls) == 3
    assert (info.value.code, info.value.attempts) == (UNAVAILABLE, 3)
    assert str(info.value) == f"UNAVAILABLE from {target} after 3 attempts: scripted UNAVAILABLE"


@pytest.mark.parametrize("code", [INVALID, grpc.StatusCode.INTERNAL, grpc.StatusCode.FAILED_PRECONDITION])
def test_other_codes_are_not_retried(code: grpc.StatusCode) -> None:
    with scripted(code, OK) as (target, servicer), Client(target, retry=FAST) as client:
        with pytest.raises(VerbatimError) as info:
            client.classify(["x"])
    assert len(servicer.calls) == 1
    assert (info.value.code, info.value.attempts, info.value.details) == (code, 1, f"scripted {code.name}")


def test_the_budget_stops_retries_once_spent() -> None:
    budget = RetryBudget(ratio=0.0, floor=2)
    policy = RetryPolicy(max_attempts=10, initial_backoff=0.001, max_backoff=0.001)
    with scripted(UNAVAILABLE) as (target, servicer), Client(target, retry=policy, budget=budget) as client:
        for _ in range(2):
            with pytest.raises(VerbatimError):
                client.classify(["x"])
    assert len(servicer.calls) == 3 + 1  # the first call: 1 + 2 retries; the second: the budget is spent


def test_the_budget_allows_retries_of_a_fifth_of_calls_plus_the_floor() -> None:
    budget = RetryBudget(ratio=0.2, floor=0)
    for _ in range(10):
        budget.on_call()
    assert [budget.try_retry() for _ in range(3)] == [True, True, False]
    capped = RetryBudget(ratio=0.2, floor=3, capacity=3)
    for _ in range(100):
        capped.on_call()
    assert sum(capped.try_retry() for _ in range(10)) == 3  # deposits never grow the bucket past its capacity


def test_the_deadline_covers_the_call_and_is_overridable() -> None:
    with scripted(OK, delay=1.5) as (target, servicer), Client(target, timeout=0.3, retry=FAST) as client:
        started = time.monotonic()
        with pytest.raises(VerbatimError) as info:
            client.classify(["x"])
        assert time.monotonic() - started < 1.2
        assert (info.value.code, info.value.attempts) == (grpc.StatusCode.DEADLINE_EXCEEDED, 1)
        [result] = client.classify(["x"], timeout=5)  # per call, longer than the client's default
        assert result.model_version == "fake-1"


def test_no_retry_waits_past_the_deadline() -> None:
    retrier = Retrier(RetryPolicy(initial_backoff=1.0, max_backoff=1.0), RetryBudget(), random.Random(1))
    assert retrier.delay(UNAVAILABLE, 1, remaining=0.0) is None
    assert retrier.delay(INVALID, 1, remaining=100.0) is None
    waits = [retrier.delay(UNAVAILABLE, 1, remaining=100.0) for _ in range(8)]
    assert all(w is not None and 0 <= w <= 1.0 for w in waits)


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, multiplier=2.0)
    rng = random.Random(7)
    for retry, bound in ((1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)):
        draws = [policy.backoff(retry, rng) for _ in range(300)]
        assert 0 <= min(draws) and max(draws) <= bound
        assert max(draws) > 0.9 * bound and min(draws) < 0.1 * bound  # jittered over the whole range
        assert len(set(draws)) == len(draws)


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="INVALID_ARGUMENT is never retried"):
        RetryPolicy(retryable=frozenset({INVALID}))
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_a_server_that_is_down_fails_with_one_line_naming_the_target() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    target = f"127.0.0.1:{port}"
    with Client(target, timeout=3, retry=FAST) as client:
        with pytest.raises(VerbatimError) as info:
            client.list_tags()
    assert info.value.code == UNAVAILABLE and info.value.attempts > 1
    assert target in str(info.value) and "\n" not in str(info.value)
