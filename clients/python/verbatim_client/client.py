"""The blocking client: one typed method per RPC, deadlines, retries, and `classify_many`."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import grpc

from verbatim_client import _convert
from verbatim_client._stubs import verbatim_pb2 as pb
from verbatim_client._stubs import verbatim_pb2_grpc as pb_grpc
from verbatim_client.batching import DEFAULT_BATCH_SIZE, check_unique_ids, chunks
from verbatim_client.errors import VerbatimError
from verbatim_client.progress import progress as progress_display
from verbatim_client.retry import Retrier, RetryBudget, RetryPolicy
from verbatim_client.security import auth_metadata, tls_credentials
from verbatim_client.types import (DEFAULT_ACCOUNT, Account, ClassifiedComment, Comment, Correction, CorrectionResult,
                                   ModelInfo, Tag)

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 10.0


class Client:
    """A verbatim server at `target` ("host:port").

    Every call has a deadline: `timeout` seconds by default, or the call's own `timeout=`; it
    covers the retries too. UNAVAILABLE and RESOURCE_EXHAUSTED are retried with backoff per
    `retry`, within `budget` (pass one RetryBudget to several clients to share it); any other
    failure raises VerbatimError at once. Thread-safe; close it, or use it as a context manager.

    `api_key` is sent as `authorization: Bearer <key>` on every call. `ca_file` (PEM of the CA
    that signed the server's certificate) makes the channel TLS; `client_cert` and `client_key`
    add this caller's certificate for an mTLS server. `credentials`, when given, replaces all three.
    """

    def __init__(self, target: str = DEFAULT_TARGET, *, timeout: float = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, budget: RetryBudget | None = None,
                 credentials: grpc.ChannelCredentials | None = None,
                 options: Sequence[tuple[str, Any]] = (), api_key: str | None = None,
                 ca_file: str | Path | None = None, client_cert: str | Path | None = None,
                 client_key: str | Path | None = None) -> None:
        self.target, self.timeout = target, timeout
        self._retrier = Retrier(retry or RetryPolicy(), budget or RetryBudget())
        self._metadata = auth_metadata(api_key)
        if credentials is None:
            credentials = tls_credentials(ca_file, client_cert, client_key)
        self._channel = (grpc.secure_channel(target, credentials, options) if credentials is not None
                         else grpc.insecure_channel(target, options))
        self._stub = pb_grpc.VerbatimStub(self._channel)
        self._batch_size = DEFAULT_BATCH_SIZE  # lowered to the server's limit once it names one

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def classify(self, comments: Sequence[str | Comment], *, account: str = DEFAULT_ACCOUNT,
                 min_confidence: float | None = None, only_tags: Sequence[str] = (),
                 timeout: float | None = None) -> list[ClassifiedComment]:
        """Tags and sentiment for the comments (one request, at most the server's limit), in order.
        Bare strings get ids "0", "1", ... by position."""
        request = _convert.classify_request(_convert.as_comments(comments), account, min_confidence, only_tags)
        return _convert.classified(self._call("ClassifyComments", request, timeout))

    def classify_many(self, comments: Iterable[str | Comment], *, account: str = DEFAULT_ACCOUNT,
                      batch_size: int | None = None, max_in_flight: int = 4, progress: bool = False,
                      min_confidence: float | None = None, only_tags: Sequence[str] = (),
                      timeout: float | None = None) -> list[ClassifiedComment]:
        """Any number of comments, sent as requests of `batch_size` (default: the server's limit),
        `max_in_flight` at a time; the results come back in input order. `timeout` is per request.
        `progress` draws a bar on stderr. Ids must be unique (bare strings: their position)."""
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight is {max_in_flight}; it must be at least 1")
        items = _convert.as_comments(comments)
        check_unique_ids(items)
        parts = chunks(items, batch_size or self._batch_size)
        shown = progress_display(len(items), "classified", progress)
        try:
            with ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="verbatim-classify") as pool:
                futures = [pool.submit(self._classify_part, part, account, min_confidence, only_tags, timeout)
                           for part in parts]
                _wait_all(futures, shown.update)
            return [comment for future in futures for comment in future.result()]
        finally:
            shown.close()

    def _classify_part(self, part: Sequence[Comment], account: str, min_confidence: float | None,
                       only_tags: Sequence[str], timeout: float | None) -> list[ClassifiedComment]:
        try:
            return self.classify(part, account=account, min_confidence=min_confidence, only_tags=only_tags,
                                 timeout=timeout)
        except VerbatimError as exc:
            limit = exc.request_limit
            if limit is None or limit >= len(part):
                raise
            self._batch_size = limit
            return [c for sub in chunks(part, limit)
                    for c in self._classify_part(sub, account, min_confidence, only_tags, timeout)]

    def submit_corrections(self, corrections: Sequence[Correction], *, batch_size: int | None = None,
                           progress: bool = False, timeout: float | None = None) -> list[CorrectionResult]:
        """Store corrections, in requests of `batch_size` (default: the server's limit), one after
        another; one result per correction, in order. Each request is all or nothing and
        idempotent on correction_id, so after a failure resubmitting everything is safe."""
        results: list[CorrectionResult] = []
        shown = progress_display(len(corrections), "submitted", progress, unit="corrections")
        try:
            pending = list(chunks(corrections, batch_size or self._batch_size))
            while pending:
                part = pending.pop(0)
                try:
                    results += _convert.correction_results(
                        self._call("SubmitCorrections", _convert.corrections_request(part), timeout))
                except VerbatimError as exc:
                    limit = exc.request_limit
                    if limit is None or limit >= len(part):
                        raise
                    self._batch_size = limit
                    pending[:0] = chunks(part, limit)
                    continue
                shown.update(len(part))
            return results
        finally:
            shown.close()

    def put_tags(self, tags: Sequence[Tag], *, account: str = DEFAULT_ACCOUNT,
                 timeout: float | None = None) -> list[Tag]:
        """Create or replace tags (by name) of the account, creating it if new; returns its whole taxonomy."""
        request = pb.PutTagsRequest(account_id=account, tags=[_convert.tag_to_proto(t) for t in tags])
        return _convert.tags(self._call("PutTags", request, timeout).tags)

    def create_account(self, account_id: str, *, industry: str = "", timeout: float | None = None) -> Account:
        """Create an account that starts from its industry's default taxonomy: "saas" (also when empty),
        "ecommerce" or "media". An account that exists is ALREADY_EXISTS, which after a retried UNAVAILABLE
        may mean that the first attempt created it."""
        request = pb.CreateAccountRequest(account_id=account_id, industry=industry)
        return _convert.account(self._call("CreateAccount", request, timeout))

    def list_tags(self, *, account: str = DEFAULT_ACCOUNT, timeout: float | None = None) -> list[Tag]:
        """The account's taxonomy, in taxonomy order."""
        return _convert.tags(self._call("ListTags", pb.ListTagsRequest(account_id=account), timeout).tags)

    def delete_tag(self, name: str, *, account: str = DEFAULT_ACCOUNT, timeout: float | None = None) -> list[Tag]:
        """Remove one tag (not a parent of others); returns the account's taxonomy after the change."""
        request = pb.DeleteTagRequest(account_id=account, name=name)
        return _convert.tags(self._call("DeleteTag", request, timeout).tags)

    def get_model_info(self, *, account: str | None = None, timeout: float | None = None) -> ModelInfo:
        """The serving model; `account` limits the tags to that account's."""
        return _convert.model_info(self._call("GetModelInfo", _convert.model_info_request(account), timeout))

    def _call(self, rpc: str, request: Any, timeout: float | None) -> Any:
        method = getattr(self._stub, rpc)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._retrier.budget.on_call()
        attempts = 0
        while True:
            attempts += 1
            try:
                return method(request, timeout=max(deadline - time.monotonic(), 0.001),
                                    metadata=self._metadata)
            except grpc.RpcError as exc:
                code, details = exc.code(), exc.details() or ""  # type: ignore[attr-defined]
                wait = self._retrier.delay(code, attempts, deadline - time.monotonic())
                if wait is None:
                    raise VerbatimError(code, details, self.target, attempts) from exc
                time.sleep(wait)


def _wait_all(futures: Sequence[Future[list[ClassifiedComment]]], done: Any) -> None:
    """Wait for every future, reporting each one's size; on the first failure cancel the rest."""
    try:
        for future in as_completed(futures):
            done(len(future.result()))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
