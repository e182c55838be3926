"""The micro-batcher: comments from concurrent requests share forward passes.

Comments wait in one bounded queue. A single worker takes the oldest comment, waits at
most `max_delay_s` after its arrival for company, and forms a batch capped by comment
count and by padded tokens (batch size x longest comment). A batch only holds comments
accepted with the same predictor, so in-flight work finishes on the model it started on
when a new one is swapped in. Comments whose deadline has passed are dropped before
compute. Each batch is sorted by length and cut into forward passes where lengths jump
(plan_passes), so compute goes to comments rather than padding. Inference runs in a
single-thread executor: the event loop stays free for I/O, and one batch at a time gets
every core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from verbatim.models.predictor import Scores
from verbatim.models.types import Prediction
from verbatim.service.errors import DeadlineExpired, QueueFull, ShuttingDown

logger = logging.getLogger(__name__)


class BatchPredictor(Protocol):
    """What the batcher needs from a model: one forward pass, then a decision per row."""

    def infer(self, token_ids: Sequence[Sequence[int]], accounts: Sequence[str] | None = None) -> Scores: ...

    def decide(self, text: str, account: str, themes: np.ndarray, sentiment: np.ndarray,
               tag_sentiment: np.ndarray) -> Prediction: ...


class BatchObserver(Protocol):
    """Told of every computed batch, with plain numbers (e.g. to export metrics)."""

    def __call__(self, size: int, padded_tokens: int, queue_waits: Sequence[float], inference_s: float) -> None: ...


@dataclass(eq=False)
class WorkItem:
    """One comment to classify. `deadline` is on the time.monotonic() clock; None is no deadline."""

    text: str
    account: str
    token_ids: Sequence[int]
    predictor: BatchPredictor
    deadline: float | None = None
    enqueued_at: float = field(default=0.0, init=False)
    future: asyncio.Future[Prediction] = field(init=False)

    def expired(self, now: float) -> bool:
        return self.deadline is not None and now >= self.deadline


@dataclass
class BatchStats:
    """Counters kept in memory since start-up."""

    batches: int = 0
    comments: int = 0  # computed
    padded_tokens: int = 0
    inference_seconds: float = 0.0
    expired: int = 0  # dropped because their deadline passed
    rejected: int = 0  # refused with QueueFull
    failed_batches: int = 0
    sizes: Counter[int] = field(default_factory=Counter)  # batch size -> batches of that size

    @property
    def mean_batch_size(self) -> float:
        return self.comments / self.batches if self.batches else 0.0

    @property
    def max_batch_size(self) -> int:
        return max(self.sizes, default=0)


# What one extra forward pass costs beyond its padded tokens, in tokens' worth of compute
# (Python dispatch, small-matrix inefficiency): 10-40 for MiniLM-L6 on 2 CPU threads, torch
# at the top. In a cost model of seed-corpus batches, throughput moves < 2% for any value 16-64.
PASS_OVERHEAD_TOKENS = 32


def plan_passes(lengths: Sequence[int], overhead: int = PASS_OVERHEAD_TOKENS) -> list[int]:
    """Cut points (end indices) that split a batch, sorted by ascending length, into forward
    passes minimising padded tokens plus `overhead` per pass.

    A single padded pass over mixed lengths spends most of its compute on padding: on the
    seed corpus a random batch of 64 pads to its longest comment, about 4x the mean length.
    """
    n = len(lengths)
    best = np.zeros(n + 1)  # best[j]: cheapest cost of the first j comments
    cut = np.zeros(n + 1, dtype=np.int64)
    starts = np.arange(n)
    for j in range(1, n + 1):
        costs = best[:j] + overhead + (j - starts[:j]) * lengths[j - 1]
        cut[j] = int(np.argmin(costs))
        best[j] = costs[cut[j]]
    ends, j = [], n
    while j > 0:
        ends.append(j)
        j = int(cut[j])
    return ends[::-1]


def _run_batch(predictor: BatchPredictor, token_ids: list[Sequence[int]], texts: list[str],
               accounts: list[str]) -> tuple[list[Prediction], int]:
    """Predictions for a length-sorted batch, and the padded tokens its passes computed."""
    predictions: list[Prediction] = []
    start = padded = 0
    for end in plan_passes([len(ids) for ids in token_ids]):
        scores = predictor.infer(token_ids[start:end], accounts[start:end])
        predictions += [predictor.decide(texts[i], accounts[i], *scores.row(i - start)) for i in range(start, end)]
        padded += (end - start) * len(token_ids[end - 1])
        start = end
    return predictions, padded


class Batcher:
    """Queue plus worker. Use from one event loop: submit(), then await the futures."""

    def __init__(self, max_batch_comments: int, max_batch_tokens: int, max_delay_s: float, capacity: int,
                 executor_initializer: Callable[[], None] | None = None,
                 observer: BatchObserver | None = None, log_text: bool = False) -> None:
        if min(max_batch_comments, max_batch_tokens, capacity) < 1 or max_delay_s < 0:
            raise ValueError("batch caps and capacity must be >= 1 and max_delay_s >= 0")
        self.max_batch_comments = max_batch_comments
        self.max_batch_tokens = max_batch_tokens
        self.max_delay_s = max_delay_s
        self.capacity = capacity
        self.stats = BatchStats()
        self.observer = observer
        self.log_text = log_text  # quote the texts of a failed batch in the log (VERBATIM_LOG_COMMENT_TEXT)
        self._queue: deque[WorkItem] = deque()
        self._arrived = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._accepting = True
        self._inflight: list[WorkItem] = []
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="verbatim-infer",
                                            initializer=executor_initializer)

    @property
    def depth(self) -> int:
        """Comments waiting for a batch."""
        return len(self._queue)

    def start(self) -> None:
        """Start the worker on the running event loop (submit() does it when needed)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="verbatim-batcher")

    def admit(self, count: int) -> None:
        """Raise QueueFull (or ShuttingDown) now if `count` comments would be refused.

        For callers to check before they spend work on a request (parsing, tokenising):
        under overload, a refusal must cost next to nothing, or refusals eat the CPU that
        the queued work needs. submit() checks again.
        """
        if not self._accepting:
            raise ShuttingDown()
        if len(self._queue) + count > self.capacity:
            self._purge(time.monotonic())
            if len(self._queue) + count > self.capacity:
                self.stats.rejected += count
                raise QueueFull(count, self.capacity - len(self._queue), self.capacity)

    def submit(self, items: Sequence[WorkItem]) -> list[asyncio.Future[Prediction]]:
        """Queue all items or none: raises QueueFull at once when they do not fit."""
        self.admit(len(items))
        self.start()
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        for item in items:
            item.enqueued_at = now
            item.future = loop.create_future()
            self._queue.append(item)
        if items:
            self._idle.clear()
            self._arrived.set()
        return [item.future for item in items]

    async def drain(self, timeout: float | None = None) -> bool:
        """Stop accepting work and wait until every queued comment is done; False on timeout."""
        self._accepting = False
        if self._idle.is_set():
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop the worker; comments still queued or computing fail with ShuttingDown."""
        self._accepting = False
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for item in [*self._inflight, *self._queue]:
            if not item.future.done():
                item.future.set_exception(ShuttingDown())
        self._queue.clear()
        self._inflight = []
        self._idle.set()
        # A batch may still be computing in the thread; do not block the loop on it.
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            await self._compute(batch)

    async def _next_batch(self) -> list[WorkItem]:
        while True:
            now = time.monotonic()
            self._purge(now)
            if not self._queue:
                self._idle.set()
                self._arrived.clear()
                await self._arrived.wait()
                continue
            batch, full = self._plan()
            wait = batch[0].enqueued_at + self.max_delay_s - now
            if full or wait <= 0:
                self._take(batch)
                return batch
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), wait)
            except TimeoutError:
                pass

    def _plan(self) -> tuple[list[WorkItem], bool]:
        """The oldest item's batch, in arrival order, and whether it is capped (full).

        Stops at the first item that does not fit rather than skipping ahead to shorter
        ones, so a long comment is never starved by a stream of short ones.
        """
        batch: list[WorkItem] = []
        predictor = self._queue[0].predictor
        longest = 0
        for item in self._queue:
            if item.predictor is not predictor:
                continue
            width = max(longest, len(item.token_ids))
            if batch and (len(batch) + 1) * width > self.max_batch_tokens:
                return batch, True
            batch.append(item)
            longest = width
            if len(batch) == self.max_batch_comments:
                return batch, True
        return batch, False

    def _take(self, batch: list[WorkItem]) -> None:
        taken = {id(item) for item in batch}
        self._queue = deque(item for item in self._queue if id(item) not in taken)

    def _purge(self, now: float) -> None:
        """Drop cancelled items (their caller is gone) and fail expired ones, uncomputed."""
        if not any(item.future.done() or item.expired(now) for item in self._queue):
            return
        live: deque[WorkItem] = deque()
        for item in self._queue:
            if item.future.done():
                continue
            if item.expired(now):
                item.future.set_exception(DeadlineExpired())
                self.stats.expired += 1
                continue
            live.append(item)
        self._queue = live

    async def _compute(self, batch: list[WorkItem]) -> None:
        batch.sort(key=lambda item: len(item.token_ids))  # less padding waste per pass
        self._inflight = batch
        predictor = batch[0].predictor
        started = time.monotonic()
        try:
            predictions, padded = await asyncio.get_running_loop().run_in_executor(
                self._executor, _run_batch, predictor, [item.token_ids for item in batch],
                [item.text for item in batch], [item.account for item in batch])
        except Exception as exc:  # the model failed: every caller in the batch hears of it
            self.stats.failed_batches += 1
            # The exception's message is the model's, never the comments'; the texts only on request.
            logger.warning("a batch of %d comments failed: %s", len(batch), type(exc).__name__)
            if self.log_text:
                logger.warning("texts of the failed batch: %s", [item.text[:200] for item in batch])
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(exc)
        else:
            for item, prediction in zip(batch, predictions):
                if not item.future.done():
                    item.future.set_result(prediction)
            self.stats.batches += 1
            self.stats.comments += len(batch)
            elapsed = time.monotonic() - started
            self.stats.sizes[len(batch)] += 1
            self.stats.padded_tokens += padded
            self.stats.inference_seconds += elapsed
            self._observe(len(batch), padded, [started - item.enqueued_at for item in batch], elapsed)
        finally:
            self._inflight = []

    def _observe(self, size: int, padded: int, waits: list[float], elapsed: float) -> None:
        if self.observer is None:
            return
        try:
            self.observer(size, padded, waits, elapsed)
        except Exception:  # metrics must never fail a request
            logger.exception("batch observer failed")


async def gather_predictions(futures: Sequence[asyncio.Future[Prediction]]) -> list[Prediction]:
    """Every result, or the first error once all are settled (so none goes unretrieved).

    If the caller is cancelled (client gone, deadline hit), gather cancels the futures and
    the batcher skips them instead of computing for nobody.
    """
    results = await asyncio.gather(*futures, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]
