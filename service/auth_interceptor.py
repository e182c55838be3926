"""Authentication, authorisation and the per-key concurrency limit, for every Verbatim RPC.

Health and reflection are other services and pass through untouched. Every Verbatim RPC
needs a known key (else UNAUTHENTICATED), a key scoped to every account the request names
and not read-only when the RPC writes (else PERMISSION_DENIED), and room under the key's
concurrency limit (else RESOURCE_EXHAUSTED). Errors are raised as the service's own, so
put this interceptor after ErrorMappingInterceptor, which maps them; the key is never logged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

import grpc
from grpc import aio

from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.service.auth import ApiKey, KeyRing, reset_caller, set_caller
from verbatim.service.convert import account_from_proto
from verbatim.service.errors import KeyOverLimit, PermissionDenied, Unauthenticated
from verbatim.service.interceptors import UnaryHandler, wrap_single_answer
from verbatim.v1 import verbatim_pb2 as pb

_PREFIX = "/" + pb.DESCRIPTOR.services_by_name["Verbatim"].full_name + "/"

WRITES = frozenset({"SubmitCorrections", "PutTags", "CreateAccount", "DeleteTag"})
# The accounts each unary RPC's request touches; an empty account_id is the default account.
# An RPC missing here is allowed only to keys scoped to every account (fail closed).
ACCOUNTS: dict[str, Callable[[Any], Iterable[str]]] = {
    "ClassifyComments": lambda r: (r.account_id,),
    "SubmitCorrections": lambda r: (c.account_id for c in r.corrections),
    "PutTags": lambda r: (r.account_id,),
    "CreateAccount": lambda r: (r.account_id,),
    "ListTags": lambda r: (r.account_id,),
    "DeleteTag": lambda r: (r.account_id,),
    # Without an account it lists every account; the servicer shows the key only its own.
    "GetModelInfo": lambda r: (r.account_id,) if r.HasField("account_id") else (),
}
STREAMED = frozenset({"SummarizeResponses"})  # its account is in the first message's options


class AuthFailureObserver(Protocol):
    def observe_auth_failure(self, reason: str) -> None: ...


class AuthInterceptor(aio.ServerInterceptor):
    """Checks the caller's API key against `keyring` and holds at most `max_concurrent_per_key`
    RPCs in flight per key."""

    def __init__(self, keyring: KeyRing, max_concurrent_per_key: int,
                 observer: AuthFailureObserver | None = None) -> None:
        self._keyring = keyring
        self._limit = max_concurrent_per_key
        self._observer = observer
        self._in_flight: dict[str, int] = {}  # key name -> RPCs in flight; only touched on the event loop

    async def intercept_service(
            self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
            handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        if not method.startswith(_PREFIX):
            return await continuation(handler_call_details)  # health and reflection stay open
        rpc, metadata = method[len(_PREFIX):], handler_call_details.invocation_metadata
        return await wrap_single_answer(continuation, handler_call_details,
                                        lambda inner: self._guarded(inner, rpc, metadata))

    def _guarded(self, inner: UnaryHandler, rpc: str, metadata: Any) -> UnaryHandler:
        async def call(request: Any, context: aio.ServicerContext) -> Any:
            key = self._checked(lambda: self._keyring.authenticate(metadata))
            if rpc in STREAMED:
                request = self._checked_stream(request, key)
            else:
                self._checked(lambda: key.check(_accounts(rpc, request, key), write=rpc in WRITES))
            self._acquire(key)
            token = set_caller(key)
            try:
                return await inner(request, context)
            finally:
                reset_caller(token)
                self._release(key)

        return call

    async def _checked_stream(self, messages: AsyncIterator[Any], key: ApiKey) -> AsyncIterator[Any]:
        first = True
        async for message in messages:
            if first:
                first = False
                account = account_from_proto(message.options.account_id) if message.HasField("options") \
                    else DEFAULT_ACCOUNT
                self._checked(lambda: key.check((account,), write=False))
            yield message
        if first:  # an empty stream summarises the default account
            self._checked(lambda: key.check((DEFAULT_ACCOUNT,), write=False))

    def _checked(self, check: Callable[[], Any]) -> Any:
        try:
            return check()
        except (Unauthenticated, PermissionDenied) as exc:
            if self._observer is not None:
                self._observer.observe_auth_failure(exc.reason)
            raise

    def _acquire(self, key: ApiKey) -> None:
        count = self._in_flight.get(key.name, 0)
        if count >= self._limit:
            raise KeyOverLimit(key.name, self._limit)
        self._in_flight[key.name] = count + 1

    def _release(self, key: ApiKey) -> None:
        count = self._in_flight.get(key.name, 1) - 1
        if count > 0:
            self._in_flight[key.name] = count
        else:
            self._in_flight.pop(key.name, None)


def _accounts(rpc: str, request: Any, key: ApiKey) -> Iterable[str]:
    extract = ACCOUNTS.get(rpc)
    if extract is None:
        if key.accounts is None:
            return ()
        raise PermissionDenied("account", f"{rpc} is allowed only to keys scoped to every account")
    return {account_from_proto(a) for a in extract(request)}
