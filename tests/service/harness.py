"""An in-process server on its own event loop thread, and helpers for calling it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from verbatim.models.predictor import Predictor, Scores
from verbatim.models.types import Prediction
from verbatim.service.config import ServiceConfig
from verbatim.service.model_slot import ModelSlot
from verbatim.service.server import VerbatimServer
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

T = TypeVar("T")


class RecordingPredictor(Predictor):
    """The tiny model, optionally slow or broken, recording which texts it computed."""

    def __init__(self, base: Predictor, delay: float = 0.0, fail: bool = False) -> None:
        super().__init__(base.artifact, base.backend)
        self.delay, self.fail = delay, fail
        self.decided: list[str] = []
        self.started = threading.Event()

    def infer(self, token_ids: Sequence[Sequence[int]], accounts: Sequence[str] | None = None) -> Scores:
        self.started.set()
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("secret internals: tensor shape mismatch")
        return super().infer(token_ids, accounts)

    def decide(self, text: str, account: str, themes: np.ndarray, sentiment: np.ndarray,
               tag_sentiment: np.ndarray) -> Prediction:
        self.decided.append(text)
        return super().decide(text, account, themes, sentiment, tag_sentiment)


class Harness:
    """A VerbatimServer on its own event loop thread, and a blocking client for it."""

    def __init__(self, config: ServiceConfig, predictor: Predictor | None, **server: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(self._make(config, predictor, server))
        self.port = self.call(self.server.start())
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = pb_grpc.VerbatimStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    @staticmethod
    async def _make(config: ServiceConfig, predictor: Predictor | None, server: dict[str, Any]) -> VerbatimServer:
        # `server`: VerbatimServer's keyword arguments (store, registry, load).
        return VerbatimServer(config, ModelSlot(predictor), **server)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.channel.close()
        self.call(self.server.stop(grace=1))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def config(**overrides: Any) -> ServiceConfig:
    # Without keys, authentication is off; tests/service/test_auth.py serves with keys.
    no_keys = "api_keys" not in overrides and "api_keys_file" not in overrides
    return ServiceConfig(**({"host": "127.0.0.1", "port": 0, "metrics_port": 0, "threads": 1,
                             "max_delay_ms": 2.0, "insecure_no_auth": no_keys} | overrides))


@contextmanager
def serving(predictor: Predictor | None, server: dict[str, Any] | None = None, **overrides: Any) -> Iterator[Harness]:
    """A running server; `overrides` are config settings, `server` VerbatimServer's keyword arguments."""
    harness = Harness(config(**overrides), predictor, **(server or {}))
    try:
        yield harness
    finally:
        harness.close()


def comment(cid: str, text: str, **kwargs: Any) -> pb.Comment:
    return pb.Comment(id=cid, text=text, **kwargs)


def classify(*comments: pb.Comment, account: str = "", **options: Any) -> pb.ClassifyCommentsRequest:
    return pb.ClassifyCommentsRequest(account_id=account, comments=comments, options=pb.ClassifyOptions(**options))


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def health_of(harness: Harness, service: str = "") -> int | None:
    """The health status of `service`, or None when the server does not answer."""
    try:
        return harness.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
    except grpc.RpcError:
        return None
