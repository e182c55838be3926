"""Maps domain errors (the service's and the store's) to gRPC status codes, once, for every RPC with one answer
(unary, and client-streaming like SummarizeResponses)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import grpc
from grpc import aio
from sqlalchemy.exc import OperationalError

from verbatim.analytics import InvalidInput as AnalyticsInput
from verbatim.service.errors import (DeadlineExpired, InvalidArgument, ModelNotReady, NoStore, QueueFull, ServiceError,
                            ShuttingDown, Unimplemented)
from verbatim.store.errors import (CorrectionConflict, InvalidInput, InvalidTaxonomy, SchemaError, StoreError,
                          TagHasChildren, UnknownAccount, UnknownTag)

logger = logging.getLogger(__name__)

# Errors whose message is meant for the caller: the service's own and the store's.
DomainError = ServiceError | StoreError

STATUS_CODES: dict[type[Exception], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    AnalyticsInput: grpc.StatusCode.INVALID_ARGUMENT,
    QueueFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
    DeadlineExpired: grpc.StatusCode.DEADLINE_EXCEEDED,
    ModelNotReady: grpc.StatusCode.UNAVAILABLE,
    ShuttingDown: grpc.StatusCode.UNAVAILABLE,
    Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
    NoStore: grpc.StatusCode.UNIMPLEMENTED,
    # The store's refusals are all bad input that a retry cannot fix (see the proto's error model).
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,  # includes InvalidCorrection
    InvalidTaxonomy: grpc.StatusCode.INVALID_ARGUMENT,
    CorrectionConflict: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownAccount: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownTag: grpc.StatusCode.INVALID_ARGUMENT,
    TagHasChildren: grpc.StatusCode.INVALID_ARGUMENT,
    # The database was migrated by a newer verbatim while this server runs: an operator must act.
    SchemaError: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_code(error: DomainError | AnalyticsInput) -> grpc.StatusCode:
    """The status for a domain error; one without an entry is a bug, hence INTERNAL."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return grpc.StatusCode.INTERNAL


UnaryHandler = Callable[[Any, aio.ServicerContext], Awaitable[Any]]


class ErrorMappingInterceptor(aio.ServerInterceptor):
    """Turns ServiceError and StoreError into their status code and anything unexpected into INTERNAL.

    An unexpected error is logged with its traceback and a short reference that is
    also sent to the caller, so a support ticket can be matched to the log line
    without leaking internals. Streaming RPCs (health Watch, reflection) pass through.
    """

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        return await _wrap_unary(continuation, handler_call_details, lambda inner: _mapped(inner, method))


def _mapped(inner: UnaryHandler, method: str) -> UnaryHandler:
    async def call(request: Any, context: aio.ServicerContext) -> Any:
        try:
            return await inner(request, context)
        except aio.AbortError:
            raise  # the handler already chose a status
        except (ServiceError, StoreError, AnalyticsInput) as exc:
            await context.abort(status_code(exc), str(exc))
        except OperationalError:
            # The database is down, locked past its busy timeout or unreachable: worth a retry,
            # and every write RPC is safe to retry (corrections are idempotent, PutTags upserts).
            reference = uuid.uuid4().hex[:12]
            logger.exception("store unavailable in %s (ref %s)", method, reference)
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                f"the store is unavailable (ref {reference}); retry with backoff")
        except Exception:
            reference = uuid.uuid4().hex[:12]
            logger.exception("unexpected error in %s (ref %s)", method, reference)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error (ref {reference}); see the server log")

    return call


class RequestObserver(Protocol):
    def observe_request(self, rpc: str, code: str, seconds: float) -> None: ...


class MetricsInterceptor(aio.ServerInterceptor):
    """Counts every RPC with one answer (unary or client-streaming) by method name and final status code,
    and times it.

    Put it before ErrorMappingInterceptor, so it sees the status that mapping chose. Only
    methods the server registered are counted, which keeps the `rpc` label bounded.
    """

    def __init__(self, metrics: RequestObserver) -> None:
        self._metrics = metrics

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        rpc = handler_call_details.method.rpartition("/")[2]
        return await _wrap_unary(continuation, handler_call_details, lambda inner: _measured(inner, rpc, self._metrics))


def _measured(inner: UnaryHandler, rpc: str, metrics: RequestObserver) -> UnaryHandler:
    async def call(request: Any, context: aio.ServicerContext) -> Any:
        started = time.perf_counter()
        code = grpc.StatusCode.UNKNOWN
        try:
            response = await inner(request, context)
            code = context.code() or grpc.StatusCode.OK
            return response
        except aio.AbortError:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        except asyncio.CancelledError:
            remaining = context.time_remaining()
            expired = remaining is not None and remaining <= 0
            code = grpc.StatusCode.DEADLINE_EXCEEDED if expired else grpc.StatusCode.CANCELLED
            raise
        finally:
            metrics.observe_request(rpc, code.name, time.perf_counter() - started)

    return call


async def _wrap_unary(continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
                      handler_call_details: grpc.HandlerCallDetails,
                      wrap: Callable[[UnaryHandler], UnaryHandler]) -> grpc.RpcMethodHandler:
    """The registered handler with its single answer wrapped: unary-unary, or stream-unary (whose first
    argument is the request iterator instead of the request). RPCs that stream answers (health Watch,
    reflection) pass through."""
    handler = await continuation(handler_call_details)
    if handler is None:
        return handler
    if handler.unary_unary is not None:
        make, inner = grpc.unary_unary_rpc_method_handler, handler.unary_unary
    elif handler.stream_unary is not None:
        make, inner = grpc.stream_unary_rpc_method_handler, handler.stream_unary
    else:
        return handler
    return make(wrap(inner), request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
