"""The store's own worker threads, with a bounded queue: the synchronous store never blocks the event
loop, and a stalled database cannot pile up an unbounded backlog of calls (and of requests holding them).

When every thread is busy and the queue is full, a call fails at once with StoreBusy, which callers
hear as UNAVAILABLE: saturation means the database is slow or away (a store call normally takes
milliseconds), the same condition an unreachable database answers with, and every store RPC is safe
to retry. RESOURCE_EXHAUSTED stays the model queue's and the per-key limit's answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from verbatim.service.errors import ServiceError

STORE_THREADS = 8
"""Store calls running at once: above PostgreSQL's default pool (5 + 10 overflow would wait on it
anyway) is pointless, and SQLite serialises its writers."""
STORE_QUEUE = 64
"""Store calls that may wait for a thread; one more fails with StoreBusy."""

P = ParamSpec("P")
T = TypeVar("T")


class StoreBusy(ServiceError):
    """Every store thread is busy and the queue behind them is full."""

    def __init__(self, running: int, queued: int) -> None:
        super().__init__(f"the store is saturated ({running} calls running, {queued} waiting); "
                         "retry with backoff")


class StoreExecutor:
    """Runs store calls in `threads` threads; at most `queue` more wait. Safe to call from any loop."""

    def __init__(self, threads: int = STORE_THREADS, queue: int = STORE_QUEUE) -> None:
        if threads < 1 or queue < 0:
            raise ValueError("threads must be >= 1 and queue >= 0")
        self.threads, self.queue = threads, queue
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="verbatim-store")
        self._lock = threading.Lock()
        self._pending = 0  # submitted and not finished: running plus queued

    @property
    def pending(self) -> int:
        """Calls running or waiting now."""
        return self._pending

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args, **kwargs)` in a store thread; StoreBusy at once if there is no room.

        A caller cancelled meanwhile does not free its place until its call has really finished,
        so the bound holds for the threads' actual work.
        """
        with self._lock:
            if self._pending >= self.threads + self.queue:
                raise StoreBusy(min(self._pending, self.threads), self._pending - min(self._pending, self.threads))
            self._pending += 1
        try:
            future: Future[T] = self._executor.submit(partial(fn, *args, **kwargs))
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        """Refuse new calls; calls already running finish in their threads (not waited for)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _release(self, _future: Future[object] | None) -> None:
        with self._lock:
            self._pending -= 1
