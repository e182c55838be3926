"""Domain errors raised inside the service. They know nothing of gRPC: the interceptor
maps each one to a status code, in one place. Their messages are safe to send to callers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from verbatim.analytics import InvalidInput


class ServiceError(Exception):
    """Base class: an error whose message is meant for the caller."""


class InvalidArgument(ServiceError):
    """Bad input. The message starts with the field path, e.g. `comments[3].text: ...`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class QueueFull(ServiceError):
    """The batcher's queue has no room for the request's comments."""

    def __init__(self, requested: int, free: int, capacity: int) -> None:
        super().__init__(f"server overloaded: {requested} comments do not fit in the queue "
                         f"({free} of {capacity} free); retry with backoff")
        self.requested, self.free, self.capacity = requested, free, capacity


class DeadlineExpired(ServiceError):
    """The caller's deadline passed while the comment waited; it was not computed."""

    def __init__(self) -> None:
        super().__init__("deadline expired while queued; the comment was not computed")


class ModelNotReady(ServiceError):
    """No model is loaded yet."""

    def __init__(self) -> None:
        super().__init__("no model is loaded yet; retry shortly")


class ShuttingDown(ServiceError):
    """The server is draining and accepts no new work."""

    def __init__(self) -> None:
        super().__init__("server is shutting down; retry on another replica")


class Unimplemented(ServiceError):
    """An RPC of the contract that this server version does not serve yet."""

    def __init__(self, rpc: str) -> None:
        super().__init__(f"{rpc} is not implemented by this server version")


class NoStore(ServiceError):
    """The server was started without a store, so it cannot keep corrections or taxonomies."""

    def __init__(self, rpc: str) -> None:
        super().__init__(f"{rpc} needs a store, and this server was started without one")


@contextmanager
def fields(prefix: str) -> Iterator[None]:
    """Turn the analytics' InvalidInput into InvalidArgument, its field nested under `prefix`
    (``score`` under ``responses[7]`` is ``responses[7].score``)."""
    try:
        yield
    except InvalidInput as error:
        raise InvalidArgument(f"{prefix}.{error.field}", error.message) from None


class Unauthenticated(ServiceError):
    """No API key, or one the server does not know. `reason` is the metric label: missing, malformed, unknown."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionDenied(ServiceError):
    """A known key asked for something it may not do. `reason` is the metric label: account, read_only."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class KeyOverLimit(ServiceError):
    """A key already has the most requests in flight that VERBATIM_MAX_CONCURRENT_PER_KEY allows."""

    def __init__(self, key: str, limit: int) -> None:
        super().__init__(f"API key {key!r} already has {limit} requests in flight, the limit "
                         "(VERBATIM_MAX_CONCURRENT_PER_KEY); retry with backoff")
        self.key, self.limit = key, limit
