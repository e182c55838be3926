"""When to retry a failed call: exponential backoff with full jitter, a policy, and a budget.

The sync and asyncio clients share this; they differ only in how they sleep.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

import grpc

#: The codes a verbatim server uses for "try again later" (see the proto's error model).
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})


@dataclass(frozen=True)
class RetryPolicy:
    """Up to `max_attempts` tries (1 turns retries off); the n-th retry waits a uniformly random
    time in [0, min(max_backoff, initial_backoff * multiplier ** (n - 1))] seconds ("full jitter",
    as gRPC's own retry policy does), never past the call's deadline."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    retryable: frozenset[grpc.StatusCode] = RETRYABLE

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts is {self.max_attempts}; it must be at least 1")
        if not 0 < self.initial_backoff <= self.max_backoff:
            raise ValueError("backoffs must satisfy 0 < initial_backoff <= max_backoff")
        if self.multiplier < 1:
            raise ValueError(f"multiplier is {self.multiplier}; it must be at least 1")
        if grpc.StatusCode.INVALID_ARGUMENT in self.retryable:
            raise ValueError("INVALID_ARGUMENT is never retried: the same request would fail again")

    def backoff(self, retry: int, rng: random.Random) -> float:
        """The wait before retry number `retry` (1-based)."""
        return rng.uniform(0, min(self.max_backoff, self.initial_backoff * self.multiplier ** (retry - 1)))


class RetryBudget:
    """A token bucket that bounds retries to `ratio` of calls plus a `floor`.

    It starts with `floor` tokens; every call deposits `ratio` of a token, and every retry takes
    a whole one. So over any stretch, retries are at most `ratio * calls` plus what the bucket
    held at its start, which is never more than `capacity` (default `max(floor, 10)`): a long
    healthy stretch cannot save up a burst of retries for the next outage. When a server is down,
    clients stop multiplying its load. Thread-safe; share one between clients to give them one budget.
    """

    def __init__(self, ratio: float = 0.2, floor: float = 10, capacity: float | None = None) -> None:
        self.capacity = max(floor, 10.0) if capacity is None else capacity
        if not 0 <= ratio <= 1 or not 0 <= floor <= self.capacity:
            raise ValueError("a retry budget needs 0 <= ratio <= 1 and 0 <= floor <= capacity")
        self.ratio, self.floor = ratio, floor
        self._tokens = float(floor)
        self._lock = threading.Lock()

    def on_call(self) -> None:
        """A first attempt was made: deposit `ratio` of a token."""
        with self._lock:
            # Rounded: ten deposits of 0.2 must make two whole tokens, not 1.9999999999999998.
            self._tokens = min(self.capacity, round(self._tokens + self.ratio, 9))

    def try_retry(self) -> bool:
        """Take a token for one retry; False (and nothing taken) when the budget is spent."""
        with self._lock:
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    @property
    def tokens(self) -> float:
        with self._lock:
            return self._tokens


class Retrier:
    """Decides, after a failed attempt, whether and how long to wait before the next one."""

    def __init__(self, policy: RetryPolicy, budget: RetryBudget, rng: random.Random | None = None) -> None:
        self.policy, self.budget = policy, budget
        self._rng = rng or random.Random()

    def delay(self, code: grpc.StatusCode, attempts: int, remaining: float) -> float | None:
        """Seconds to wait before another try after `attempts` failed ones, or None to give up.

        `remaining` is the time left before the call's deadline: a wait that would pass it is
        not worth making (the attempt after it would have no time).
        """
        if code not in self.policy.retryable or attempts >= self.policy.max_attempts:
            return None
        wait = self.policy.backoff(attempts, self._rng)
        if wait >= remaining or not self.budget.try_retry():
            return None
        return wait
