"""The grpc.aio server: Verbatim, grpc.health.v1 and reflection on one port, with the store,
live model reload and a graceful shutdown on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

import torch
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from sqlalchemy.exc import SQLAlchemyError

from verbatim.models.predictor import Predictor
from verbatim.models.registry import REPORTS_DIR, Registry
from verbatim.service.auth import load_keyring
from verbatim.service.auth_interceptor import AuthInterceptor
from verbatim.service.auto_retrain import AutoRetrain, quick_retrain_argv
from verbatim.service.batcher import Batcher
from verbatim.service.config import ConfigError, ServiceConfig
from verbatim.service.interceptors import ErrorMappingInterceptor, MetricsInterceptor, grpc_receive_limit
from verbatim.service.metrics import Metrics
from verbatim.service.model_slot import ModelSlot
from verbatim.service.reload import Loader, Reloader
from verbatim.service.servicer import SERVICE_NAME, VerbatimServicer
from verbatim.service.store_executor import StoreExecutor
from verbatim.service.tls import server_credentials
from verbatim.service.validation import RequestLimits
from verbatim.store import Store, StoreError
from verbatim.store.engine import masked_url
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HEALTH_SERVICES = ("", SERVICE_NAME)  # "" is the whole server


class ServerStartError(RuntimeError):
    """The server could not start, e.g. its port is taken."""


class VerbatimServer:
    """One server process. Health says NOT_SERVING until the slot holds a model.

    With a `store`, the correction and taxonomy RPCs are served and the model serves the
    store's live taxonomies; with a `registry` and `load`, a new champion is loaded while
    serving. Both are polled every config.reload_s seconds (0: never). The caller owns the
    store and closes it after stop().
    """

    def __init__(self, config: ServiceConfig, slot: ModelSlot | None = None, *, store: Store | None = None,
                 registry: Registry | None = None, load: Loader | None = None) -> None:
        self.config = config
        # Read now, so a missing key or certificate file stops the server before it binds (ConfigError).
        self.keyring = load_keyring(config)
        self._credentials = server_credentials(config)
        self.slot = slot or ModelSlot()
        self.store = store
        self.reloader = Reloader(self.slot, store=store, registry=registry, load=load,
                                 on_load_failure=lambda: self.metrics.observe_model_load_failure())
        self.auto_retrain = _auto_retrain(config, store, registry)
        threads = config.torch_threads
        self.metrics = Metrics(config.max_batch_comments, config.max_batch_tokens, model_registry=config.registry,
                               queue_capacity=config.queue_capacity)
        self.batcher = Batcher(config.max_batch_comments, config.max_batch_tokens, config.max_delay_s,
                               config.queue_capacity, executor_initializer=lambda: torch.set_num_threads(threads),
                               observer=self.metrics.observe_batch, log_text=config.log_comment_text)
        self.metrics.track_queue_depth(lambda: self.batcher.depth)
        self.store_calls = StoreExecutor()
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
        # Metrics outermost, so it records the status the error mapping chose; auth inside the mapping,
        # which turns its refusals into UNAUTHENTICATED, PERMISSION_DENIED or RESOURCE_EXHAUSTED.
        interceptors: list[aio.ServerInterceptor] = [MetricsInterceptor(self.metrics),
                                                        ErrorMappingInterceptor(self.config.max_message_bytes)]
        if self.keyring is not None:
            interceptors.append(AuthInterceptor(self.keyring, self.config.max_concurrent_per_key, self.metrics))
        else:
            logger.warning("authentication is OFF (VERBATIM_INSECURE_NO_AUTH): every caller may read and change "
                           "every account; configure API keys (VERBATIM_API_KEYS_FILE) outside a laptop or a test")
        server = aio.server(interceptors=interceptors, options=[
            ("grpc.so_reuseport", 0),  # a second server on a taken port must fail, not share it
            # Up to twice VERBATIM_MAX_MESSAGE_BYTES the error mapping refuses a message naming the setting;
            # beyond, gRPC answers RESOURCE_EXHAUSTED before any handler runs.
            ("grpc.max_receive_message_length", grpc_receive_limit(self.config.max_message_bytes)),
        ], maximum_concurrent_rpcs=self.config.max_concurrent_rpcs or None)  # beyond it RESOURCE_EXHAUSTED
        limits = RequestLimits(max_comments=self.config.max_comments_per_request,
                               max_text_chars=self.config.max_text_chars,
                               max_corrections=self.config.max_corrections_per_request,
                               max_tags_per_account=self.config.max_tags_per_account,
                               max_keywords_per_tag=self.config.max_keywords_per_tag)
        servicer = VerbatimServicer(self.slot, self.batcher, limits, self.metrics, store=self.store,
                                    taxonomy_changed=self.reloader.refresh_taxonomies,
                                    corrections_stored=self.auto_retrain.corrections_stored
                                    if self.auto_retrain else None, store_calls=self.store_calls)
        pb_grpc.add_VerbatimServicer_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            server)
        await self.reloader.refresh_taxonomies()  # a model handed in serves the store's taxonomies too
        await self._set_health(SERVING if self.slot.loaded else NOT_SERVING)
        try:
            port = (server.add_secure_port(self.config.address, self._credentials) if self._credentials is not None
                    else server.add_insecure_port(self.config.address))
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
        self.reloader.start(self.config.reload_s)
        if self.auto_retrain is not None:
            self.auto_retrain.start()
        return port

    async def stop(self, grace: float | None = None) -> None:
        """NOT_SERVING, refuse new RPCs, let in-flight ones finish for up to `grace` s, drain."""
        grace = self.config.grace_s if grace is None else grace
        await self.reloader.close()
        if self.auto_retrain is not None:
            await self.auto_retrain.stop(grace)
        await self.health.enter_graceful_shutdown()
        if self._server is not None:
            await self._server.stop(grace)
        # In-flight RPCs are done or cancelled by now, so this is normally instant.
        if not await self.batcher.drain(timeout=grace):
            logger.warning("batcher still busy after %ss; failing the remaining comments", grace)
        await self.batcher.close()
        self.store_calls.shutdown()
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


def _auto_retrain(config: ServiceConfig, store: Store | None, registry: Registry | None) -> AutoRetrain | None:
    """The server's own quick retrain, when configured and there is a store and a registry to retrain."""
    retrain = AutoRetrain(quick_retrain_argv(config.registry), {"VERBATIM_STORE_URL": config.store_url},
                          config.registry / REPORTS_DIR / "auto_retrain.log",
                          after_corrections=config.retrain_after, every_s=config.retrain_every_s)
    if not retrain.enabled:
        return None
    if store is None or registry is None:
        logger.warning("VERBATIM_RETRAIN_AFTER/VERBATIM_RETRAIN_EVERY_S ignored: no store or registry to retrain")
        return None
    return retrain


async def run(config: ServiceConfig, load: Loader) -> int:
    """Serve the registry's champion until SIGTERM or SIGINT; returns the exit code.

    The store is opened first (its schema migrated), then the port is bound (health
    NOT_SERVING), then the champion is loaded by `load(artifact_dir)` in a thread, so
    orchestrators can see the process is alive while the model loads.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        store = await asyncio.to_thread(Store, config.store_url)
    except (StoreError, SQLAlchemyError, OSError) as exc:  # a SchemaError too: an operator must act
        logger.error("cannot open the store %s (VERBATIM_STORE_URL): %s", masked_url(config.store_url), exc)
        return 1
    try:
        return await _serve(config, store, Registry(config.registry), load, stop)
    finally:
        store.close()


async def _serve(config: ServiceConfig, store: Store, registry: Registry, load: Loader, stop: asyncio.Event) -> int:
    try:
        server = VerbatimServer(config, store=store, registry=registry, load=load)
        await server.start()
    except (ServerStartError, ConfigError) as exc:
        logger.error("%s", exc)
        return 1
    logger.info("listening on %s (metrics on port %s, store %s), loading the model", server.address,
                server.metrics_port, store.url)
    loading = asyncio.ensure_future(server.reloader.load_champion())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({loading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if loading.done():
        if loading.exception() is not None:
            logger.error("cannot load the model", exc_info=loading.exception())
        if not server.slot.loaded:  # load_champion() logged why
            logger.error("no model to serve from the registry at %s; stopping", registry.root)
            stopping.cancel()
            await server.stop(0)
            return 1
        logger.info("verbatim serving on %s with model %s (%s)", server.address, server.slot.current().version,
                    f"polling for a new champion every {config.reload_s:g}s" if config.reload_s else "reload off")
        await stopping
    else:
        loading.cancel()
    logger.info("shutting down: finishing in-flight requests (grace %gs)", config.grace_s)
    await server.stop()
    logger.info("stopped")
    return 0
