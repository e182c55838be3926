"""The store's bounded executor, and the server's bound on RPCs in progress."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import grpc
import pytest

from verbatim.models.predictor import Predictor
from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.service.interceptors import status_code
from verbatim.service.store_executor import StoreBusy, StoreExecutor
from tests.service.harness import classify, comment, rpc_error, serving


def test_a_full_executor_refuses_at_once_and_frees_its_places_when_calls_finish() -> None:
    release = threading.Event()

    async def scenario() -> None:
        executor = StoreExecutor(threads=1, queue=1)
        running = asyncio.ensure_future(executor.run(release.wait, 10))
        queued = asyncio.ensure_future(executor.run(lambda: "queued"))
        await asyncio.sleep(0.05)
        assert executor.pending == 2
        started = time.perf_counter()
        with pytest.raises(StoreBusy, match="1 calls running, 1 waiting"):
            await executor.run(lambda: "refused")
        assert time.perf_counter() - started < 0.5  # at once, not after the blocked call
        release.set()
        assert await running is True and await queued == "queued"
        assert executor.pending == 0
        assert await executor.run(lambda: "room again") == "room again"
        executor.shutdown()

    asyncio.run(scenario())


def test_a_cancelled_caller_keeps_its_place_until_its_call_really_ends() -> None:
    release = threading.Event()

    async def scenario() -> None:
        executor = StoreExecutor(threads=1, queue=0)
        call = asyncio.ensure_future(executor.run(release.wait, 10))
        await asyncio.sleep(0.05)
        call.cancel()
        await asyncio.sleep(0.05)
        with pytest.raises(StoreBusy):  # the thread is still busy with the abandoned call
            await executor.run(lambda: None)
        release.set()
        for _ in range(100):
            if executor.pending == 0:
                break
            await asyncio.sleep(0.01)
        assert await executor.run(lambda: "free") == "free"
        executor.shutdown()

    asyncio.run(scenario())


def test_a_saturated_store_is_unavailable_to_callers() -> None:
    assert status_code(StoreBusy(8, 64)) == grpc.StatusCode.UNAVAILABLE


def test_max_concurrent_rpcs_is_a_checked_setting() -> None:
    assert ServiceConfig.from_sources(env={"VERBATIM_MAX_CONCURRENT_RPCS": "12"}).max_concurrent_rpcs == 12
    assert ServiceConfig.from_sources(env={"VERBATIM_MAX_CONCURRENT_RPCS": "0"}).max_concurrent_rpcs == 0
    with pytest.raises(ConfigError, match="VERBATIM_MAX_CONCURRENT_RPCS"):
        ServiceConfig.from_sources(env={"VERBATIM_MAX_CONCURRENT_RPCS": "-1"})


class SlowTokens(Predictor):
    """The tiny model, tokenising slowly once `slow` is set, so an RPC stays in progress."""

    slow = threading.Event()
    busy = threading.Event()

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        if self.slow.is_set():
            self.busy.set()
            time.sleep(1.0)
        return super().encode(texts)


def test_rpcs_beyond_max_concurrent_rpcs_are_resource_exhausted(tiny_predictor: Predictor,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SlowTokens, "slow", threading.Event())
    monkeypatch.setattr(SlowTokens, "busy", threading.Event())
    with serving(SlowTokens(tiny_predictor.artifact, tiny_predictor.backend), max_concurrent_rpcs=1) as h:
        SlowTokens.slow.set()
        first = h.stub.ClassifyComments.future(classify(comment("1", "The app crashes")), timeout=30)
        assert SlowTokens.busy.wait(10)
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("2", "Too expensive")), timeout=10))
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert first.result().comments[0].id == "1"
        SlowTokens.slow.clear()
        assert h.stub.ClassifyComments(classify(comment("3", "Too expensive")), timeout=10).comments[0].id == "3"
