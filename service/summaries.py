"""SummarizeResponses: count a stream of survey responses, classifying on the way those that came
without tags, and summarise them (`verbatim.analytics`).

Memory is bounded whatever the length of the stream: the counts keep no response, and at most
`max_pending` messages' worth of comments wait for the model at a time. While they wait the stream is
not read, so gRPC's flow control holds the sender back instead of the server buffering.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

from verbatim.analytics import PeriodCounts, Summary
from verbatim.models.predictor import Predictor
from verbatim.models.types import Prediction
from verbatim.service.batcher import Batcher, WorkItem, gather_predictions
from verbatim.service.errors import DeadlineExpired, QueueFull, fields
from verbatim.service.requests import IncomingResponse, SummaryRequest
from verbatim.service.validation import check_account

MAX_PENDING = 4
"""Messages whose comments may wait for the model at once: enough to keep the batcher busy."""
QUEUE_RETRY_S = 0.01
"""How long a summary waits for room in a full queue before it tries again (nothing of its own pending)."""

PredictionObserver = Callable[[str, Sequence[Prediction]], None]


@dataclass(frozen=True)
class SummaryResult:
    summary: Summary
    model_version: str
    classified: int
    given: int


@dataclass
class _Chunk:
    responses: list[IncomingResponse]
    futures: list[asyncio.Future[Prediction]]


class StreamSummary:
    """One SummarizeResponses call: `await run(batches)` once.

    Responses with tags (or without a comment) are counted at once; the others go through `batcher`
    with `predictor`, like ClassifyComments, and are counted when their predictions arrive. Counting is
    order-independent (`verbatim.analytics.Accumulator` is a monoid), so they need not wait in order.
    A full queue does not fail a long stream: the summary waits for its own comments, or for room,
    until the caller's `deadline` (monotonic seconds).
    """

    def __init__(self, request: SummaryRequest, predictor: Predictor, batcher: Batcher, *,
                 deadline: float | None = None, observe: PredictionObserver | None = None,
                 max_pending: int = MAX_PENDING) -> None:
        taxonomies = {account: predictor.taxonomy(account) for account in predictor.accounts}
        taxonomy = check_account("options.account_id", request.account_id, taxonomies)
        self._request = request
        self._predictor = predictor
        self._batcher = batcher
        self._deadline = deadline
        self._observe = observe
        self._max_pending = max_pending
        self._counts = PeriodCounts(taxonomy, period=request.period, compare_to=request.compare_to,
                                    segment_by=request.segment_by, tz=request.tz)
        self._pending: deque[_Chunk] = deque()
        self._classified = self._given = 0

    async def run(self, batches: AsyncIterator[list[IncomingResponse]]) -> SummaryResult:
        """Count every batch, then summarise. On any error (or cancellation) the comments still queued
        for this call are cancelled, so the batcher skips them."""
        try:
            async for batch in batches:
                await self._add(batch)
            while self._pending:
                await self._settle(self._pending.popleft())
        finally:
            for chunk in self._pending:
                for future in chunk.futures:
                    future.cancel()
        with fields("options"):
            summary = self._counts.summary(self._request.options)
        return SummaryResult(summary, self._predictor.version, self._classified, self._given)

    async def _add(self, batch: list[IncomingResponse]) -> None:
        to_classify = []
        for incoming in batch:
            if incoming.classify:
                to_classify.append(incoming)
            else:
                self._count(incoming)
                self._given += 1
        # A message may hold more comments than the whole queue: submit it in parts that fit.
        size = max(1, self._batcher.capacity)
        for start in range(0, len(to_classify), size):
            self._pending.append(await self._submit(to_classify[start:start + size]))
            while len(self._pending) > self._max_pending:
                await self._settle(self._pending.popleft())

    async def _submit(self, responses: list[IncomingResponse]) -> _Chunk:
        texts = [incoming.response.text or "" for incoming in responses]
        token_ids = await asyncio.to_thread(self._predictor.encode, texts)  # off the loop: up to 256 x 5,000 chars
        account = self._request.account_id
        while True:
            items = [WorkItem(text, account, ids, self._predictor, self._deadline)
                     for text, ids in zip(texts, token_ids, strict=True)]
            try:
                return _Chunk(responses, self._batcher.submit(items))
            except QueueFull:
                if self._pending:
                    await self._settle(self._pending.popleft())
                elif self._deadline is not None and time.monotonic() >= self._deadline:
                    raise DeadlineExpired() from None
                else:
                    await asyncio.sleep(QUEUE_RETRY_S)

    async def _settle(self, chunk: _Chunk) -> None:
        predictions = await gather_predictions(chunk.futures)
        for incoming, prediction in zip(chunk.responses, predictions, strict=True):
            self._count(replace(incoming, response=replace(
                incoming.response, tags=frozenset(tag.name for tag in prediction.tags),
                sentiment=prediction.sentiment)))
        self._classified += len(predictions)
        if self._observe is not None:
            self._observe(self._request.account_id, predictions)

    def _count(self, incoming: IncomingResponse) -> None:
        with fields(f"responses[{incoming.index}].given"):
            self._counts.add(incoming.response)
