"""Maps domain errors (the service's and the store's) to gRPC status codes, once, for every RPC with one answer
(unary, and client-streaming like SummarizeResponses)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import grpc
from grpc import aio
from sqlalchemy.exc import OperationalError

from verbatim.analytics import InvalidInput as AnalyticsInput
from verbatim.service.errors import (DeadlineExpired, InvalidArgument, KeyOverLimit, ModelNotReady, NoStore,
                                     PermissionDenied, QueueFull, ServiceError, ShuttingDown, Unauthenticated,
                                     Unimplemented)
from verbatim.service.store_executor import StoreBusy
from verbatim.store.errors import (AccountExists, CorrectionConflict, InvalidInput, InvalidTaxonomy, SchemaError,
                                   StoreError, TagHasChildren, UnknownAccount, UnknownTag)

logger = logging.getLogger(__name__)

# Errors whose message is meant for the caller: the service's own and the store's.
DomainError = ServiceError | StoreError

STATUS_CODES: dict[type[Exception], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    AnalyticsInput: grpc.StatusCode.INVALID_ARGUMENT,
    QueueFull: grpc.StatusCode.RESOURCE_EXHAUSTED,
    KeyOverLimit: grpc.StatusCode.RESOURCE_EXHAUSTED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    DeadlineExpired: grpc.StatusCode.DEADLINE_EXCEEDED,
    ModelNotReady: grpc.StatusCode.UNAVAILABLE,
    ShuttingDown: grpc.StatusCode.UNAVAILABLE,
    StoreBusy: grpc.StatusCode.UNAVAILABLE,  # the store's threads and queue are full: see store_executor
    Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
    NoStore: grpc.StatusCode.UNIMPLEMENTED,
    # The store's refusals are all bad input that a retry cannot fix (see the proto's error model).
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,  # includes InvalidCorrection
    InvalidTaxonomy: grpc.StatusCode.INVALID_ARGUMENT,
    CorrectionConflict: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownAccount: grpc.StatusCode.INVALID_ARGUMENT,
    UnknownTag: grpc.StatusCode.INVALID_ARGUMENT,
    TagHasChildren: grpc.StatusCode.INVALID_ARGUMENT,
    AccountExists: grpc.StatusCode.ALREADY_EXISTS,  # CreateAccount only: PutTags creates as it goes
    # The database was migrated by a newer verbatim while this server runs: an operator must act.
    SchemaError: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_code(error: DomainError | AnalyticsInput) -> grpc.StatusCode:
    """The status for a domain error; one without an entry is a bug, hence INTERNAL."""
    for cls in type(error).__mro__:
        if cls in STATUS_CODES:
            return STATUS_CODES[cls]
    return grpc.StatusCode.INTERNAL


# Messages may quote the caller's values (an unknown account id, a name with spaces...), which can be
# huge; gRPC percent-encodes the message into a trailer, up to 12 bytes a character, and a client drops
# a trailer over its metadata limit (8 KiB soft, 16 KiB hard) as RESOURCE_EXHAUSTED. So cut it short.
MAX_DETAILS_CHARS = 500


def bounded_details(message: str) -> str:
    """`message`, cut to MAX_DETAILS_CHARS characters (the field path it starts with is kept)."""
    if len(message) <= MAX_DETAILS_CHARS:
        return message
    return message[:MAX_DETAILS_CHARS - 20] + " ... (cut short)"


UnaryHandler = Callable[[Any, aio.ServicerContext], Awaitable[Any]]


class ErrorMappingInterceptor(aio.ServerInterceptor):
    """Turns ServiceError and StoreError into their status code and anything unexpected into INTERNAL.

    An unexpected error is logged with its traceback and a short reference that is
    also sent to the caller, so a support ticket can be matched to the log line
    without leaking internals. Streaming RPCs (health Watch, reflection) pass through.

    It also parses each request itself, so a message over `max_message_bytes` is refused naming the
    setting (INVALID_ARGUMENT: resending it as is cannot succeed). gRPC's own limit is set above it
    (`grpc_receive_limit`) as the backstop for far larger messages.
    """

    def __init__(self, max_message_bytes: int | None = None) -> None:
        self._max_bytes = max_message_bytes

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        # The request is parsed inside the mapping, so bytes that are not a valid message get INVALID_ARGUMENT
        # (gRPC's own parse failure would answer UNKNOWN).
        return await wrap_single_answer(continuation, handler_call_details, lambda inner: _mapped(inner, method),
                                        parse_inside=True, max_bytes=self._max_bytes)


def _mapped(inner: UnaryHandler, method: str) -> UnaryHandler:
    async def call(request: Any, context: aio.ServicerContext) -> Any:
        try:
            return await inner(request, context)
        except aio.AbortError:
            raise  # the handler already chose a status
        except (ServiceError, StoreError, AnalyticsInput) as exc:
            await context.abort(status_code(exc), bounded_details(str(exc)))
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
        return await wrap_single_answer(continuation, handler_call_details, lambda inner: _measured(inner, rpc, self._metrics))


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


async def wrap_single_answer(continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
                      handler_call_details: grpc.HandlerCallDetails,
                             wrap: Callable[[UnaryHandler], UnaryHandler], parse_inside: bool = False,
                             max_bytes: int | None = None) -> grpc.RpcMethodHandler:
    """The registered handler with its single answer wrapped: unary-unary, or stream-unary (whose first
    argument is the request iterator instead of the request). RPCs that stream answers (health Watch,
    reflection) pass through. With `parse_inside`, the wrapped handler gets the raw bytes and parses them
    itself, raising InvalidArgument for bytes that are not a valid request or are over `max_bytes`."""
    handler = await continuation(handler_call_details)
    if handler is None:
        return handler
    if handler.unary_unary is not None:
        make, inner = grpc.unary_unary_rpc_method_handler, handler.unary_unary
    elif handler.stream_unary is not None:
        make, inner = grpc.stream_unary_rpc_method_handler, handler.stream_unary
    else:
        return handler
    deserializer = handler.request_deserializer
    if parse_inside and deserializer is not None:
        parse = _checked_parse(deserializer, max_bytes)
        inner = (_parsing_unary if handler.unary_unary is not None else _parsing_stream)(inner, parse)
        deserializer = None  # identity: the bytes as they came
    return make(wrap(inner), request_deserializer=deserializer, response_serializer=handler.response_serializer)


def _parsing_unary(inner: UnaryHandler, parse: Callable[[bytes], Any]) -> UnaryHandler:
    async def call(request: bytes, context: aio.ServicerContext) -> Any:
        return await inner(_parse(parse, request), context)

    return call


def _parsing_stream(inner: UnaryHandler, parse: Callable[[bytes], Any]) -> UnaryHandler:
    async def call(requests: AsyncIterator[bytes], context: aio.ServicerContext) -> Any:
        async def parsed() -> AsyncIterator[Any]:
            async for raw in requests:
                yield _parse(parse, raw)

        return await inner(parsed(), context)

    return call


def grpc_receive_limit(max_message_bytes: int) -> int:
    """gRPC's own receive limit: twice the setting, so messages up to there get the error naming it."""
    return min(2 * max_message_bytes, 2**31 - 1)


def _checked_parse(parse: Callable[[bytes], Any], max_bytes: int | None) -> Callable[[bytes], Any]:
    if max_bytes is None:
        return parse

    def checked(raw: bytes) -> Any:
        if len(raw) > max_bytes:
            raise InvalidArgument("request", f"{len(raw)} bytes, the limit is {max_bytes} per message "
                                             "(VERBATIM_MAX_MESSAGE_BYTES)")
        return parse(raw)

    return checked


def _parse(parse: Callable[[bytes], Any], raw: bytes) -> Any:
    try:
        return parse(raw)
    except InvalidArgument:
        raise  # over the size limit: already says why
    except Exception as exc:  # DecodeError, or whatever else a deserializer raises on bad bytes
        raise InvalidArgument("request", f"not a valid message: {exc}") from None
