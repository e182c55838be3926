"""The grpc.aio server: Verbatim, grpc.health.v1 and reflection on one port, with a
graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

import torch
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from models.predictor import Predictor
from service.batcher import Batcher
from service.config import ServiceConfig
from service.interceptors import ErrorMappingInterceptor, MetricsInterceptor
from service.metrics import Metrics
from service.model_slot import ModelSlot
from service.servicer import SERVICE_NAME, VerbatimServicer
from service.validation import RequestLimits
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HEALTH_SERVICES = ("", SERVICE_NAME)  # "" is the whole server


class ServerStartError(RuntimeError):
    """The server could not start, e.g. its port is taken."""


class VerbatimServer:
    """One server process. Health says NOT_SERVING until the slot holds a model."""

    def __init__(self, config: ServiceConfig, slot: ModelSlot | None = None) -> None:
        self.config = config
        self.slot = slot or ModelSlot()
        threads = config.torch_threads
        self.metrics = Metrics(config.max_batch_comments, config.max_batch_tokens, model_registry=config.registry)
        self.batcher = Batcher(config.max_batch_comments, config.max_batch_tokens, config.max_delay_s,
                               config.queue_capacity, executor_initializer=lambda: torch.set_num_threads(threads),
                               observer=self.metrics.observe_batch)
        self.metrics.track_queue_depth(lambda: self.batcher.depth)
        self.metrics_port: int | None = None
        self.health = health.aio.HealthServicer()
        self.port: int | None = None
        self._server: aio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._background: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"{host}:{self.port}"

    async def start(self) -> int:
        """Bind and start serving; returns the bound port (useful with port 0)."""
        self._loop = asyncio.get_running_loop()
        self.slot.subscribe(self._on_swap)  # before reading slot.loaded, so no swap goes unseen
        if self.slot.loaded:
            self._set_model_info(self.slot.current())
        torch.set_num_threads(self.config.torch_threads)
        # Room for a maximal request: every comment at the text limit, 4 bytes per char in UTF-8.
        max_message = self.config.max_comments_per_request * (4 * self.config.max_text_chars + 1024) + (1 << 16)
        # Metrics outermost, so it records the status the error mapping chose.
        server = aio.server(interceptors=[MetricsInterceptor(self.metrics), ErrorMappingInterceptor()], options=[
            ("grpc.so_reuseport", 0),  # a second server on a taken port must fail, not share it
            ("grpc.max_receive_message_length", max(max_message, 4 << 20)),
        ])
        limits = RequestLimits(max_comments=self.config.max_comments_per_request,
                               max_text_chars=self.config.max_text_chars)
        pb_grpc.add_VerbatimServicer_to_server(VerbatimServicer(self.slot, self.batcher, limits, self.metrics), server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            server)
        await self._set_health(SERVING if self.slot.loaded else NOT_SERVING)
        try:
            port = server.add_insecure_port(self.config.address)
        except RuntimeError as exc:
            raise ServerStartError(f"cannot listen on {self.config.address}: {exc}") from None
        if port == 0:
            raise ServerStartError(f"cannot listen on {self.config.address}")
        try:
            self.metrics_port = self.metrics.start_http(self.config.host, self.config.metrics_port)
        except OSError as exc:
            raise ServerStartError(f"cannot serve metrics on {self.config.host}:{self.config.metrics_port} "
                                   f"(VERBATIM_METRICS_PORT): {exc}") from None
        self.port = port
        await server.start()
        self._server = server
        self.batcher.start()
        return port

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, refuse new RPCs, let in-flight ones finish for up to `grace` s, drain."""
        grace = self.config.grace_s if grace is None else grace
        await self.health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace)
        # In-flight RPCs are done or cancelled by now, so this is normally instant.
        if not await self.batcher.drain(timeout=grace):
            logger.warning("batcher still busy after %ss; failing the remaining comments", grace)
        await self.batcher.close()
        self.metrics.stop_http()

    def _on_swap(self, new: Predictor, old: Predictor | None) -> None:
        self._set_model_info(new)
        if old is None:
            logger.info("model %s loaded", new.version)
        else:
            logger.info("model %s replaces %s", new.version, old.version)
        # swap() may come from a loader thread; health lives on the loop.
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._mark_serving)

    def _set_model_info(self, predictor: Predictor) -> None:
        self.metrics.set_model(predictor.version, predictor.backend.name)

    def _mark_serving(self) -> None:
        task = asyncio.get_running_loop().create_task(self._set_health(SERVING))
        self._background.add(task)  # asyncio keeps only weak references to tasks
        task.add_done_callback(self._background.discard)

    async def _set_health(self, status: health_pb2.HealthCheckResponse.ServingStatus) -> None:
        for service in HEALTH_SERVICES:
            await self.health.set(service, status)


async def run(config: ServiceConfig, load: Callable[[], Predictor]) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit code.

    The port is bound first (health NOT_SERVING), then `load()` runs in a thread, so
    orchestrators can see the process is alive while the model loads.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = VerbatimServer(config)
    try:
        await server.start()
    except ServerStartError as exc:
        logger.error("%s", exc)
        return 1
    logger.info("listening on %s (metrics on port %s), loading the model", server.address, server.metrics_port)
    loading = loop.run_in_executor(None, load)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if loading.done():
        try:
            predictor = loading.result()
        except Exception:
            logger.exception("cannot load the model; stopping")
            stopping.cancel()
            await server.stop(0)
            return 1
        server.slot.swap(predictor)
        logger.info("verbatim serving on %s with model %s", server.address, predictor.version)
        await stopping
    else:
        loading.cancel()
    logger.info("shutting down: finishing in-flight requests (grace %gs)", config.grace_s)
    await server.stop()
    logger.info("stopped")
    return 0
