"""The asyncio client (grpc.aio): the same methods as Client, awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

from verbatim_client import _convert
from verbatim_client._stubs import verbatim_pb2 as pb
from verbatim_client._stubs import verbatim_pb2_grpc as pb_grpc
from verbatim_client.batching import DEFAULT_BATCH_SIZE, check_unique_ids, chunks
from verbatim_client.client import DEFAULT_TARGET, DEFAULT_TIMEOUT
from verbatim_client.errors import VerbatimError
from verbatim_client.progress import progress as progress_display
from verbatim_client.retry import Retrier, RetryBudget, RetryPolicy
from verbatim_client.security import auth_metadata, tls_credentials
from verbatim_client.types import (DEFAULT_ACCOUNT, Account, ClassifiedComment, Comment, Correction, CorrectionResult,
                                   ModelInfo, Tag)


class AsyncClient:
    """Client for asyncio code: deadlines, retries and the budget work as in Client.

    Create, use and close it on one event loop (`async with AsyncClient(...) as client:`).
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
        self._channel = (aio.secure_channel(target, credentials, options) if credentials is not None
                         else aio.insecure_channel(target, options))
        self._stub = pb_grpc.VerbatimStub(self._channel)
        self._batch_size = DEFAULT_BATCH_SIZE

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def classify(self, comments: Sequence[str | Comment], *, account: str = DEFAULT_ACCOUNT,
                       min_confidence: float | None = None, only_tags: Sequence[str] = (),
                       timeout: float | None = None) -> list[ClassifiedComment]:
        """As Client.classify."""
        request = _convert.classify_request(_convert.as_comments(comments), account, min_confidence, only_tags)
        return _convert.classified(await self._call("ClassifyComments", request, timeout))

    async def classify_many(self, comments: Iterable[str | Comment], *, account: str = DEFAULT_ACCOUNT,
                            batch_size: int | None = None, max_in_flight: int = 4, progress: bool = False,
                            min_confidence: float | None = None, only_tags: Sequence[str] = (),
                            timeout: float | None = None) -> list[ClassifiedComment]:
        """As Client.classify_many: at most `max_in_flight` requests at a time, results in input order."""
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight is {max_in_flight}; it must be at least 1")
        items = _convert.as_comments(comments)
        check_unique_ids(items)
        slots = asyncio.Semaphore(max_in_flight)
        shown = progress_display(len(items), "classified", progress)

        async def one(part: Sequence[Comment]) -> list[ClassifiedComment]:
            async with slots:
                result = await self._classify_part(part, account, min_confidence, only_tags, timeout)
            shown.update(len(result))
            return result

        tasks = [asyncio.ensure_future(one(part)) for part in chunks(items, batch_size or self._batch_size)]
        try:
            parts = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
        finally:
            shown.close()
        return [comment for part in parts for comment in part]

    async def _classify_part(self, part: Sequence[Comment], account: str, min_confidence: float | None,
                             only_tags: Sequence[str], timeout: float | None) -> list[ClassifiedComment]:
        try:
            return await self.classify(part, account=account, min_confidence=min_confidence, only_tags=only_tags,
                                       timeout=timeout)
        except VerbatimError as exc:
            limit = exc.request_limit
            if limit is None or limit >= len(part):
                raise
            self._batch_size = limit
            return [c for sub in chunks(part, limit)
                    for c in await self._classify_part(sub, account, min_confidence, only_tags, timeout)]

    async def submit_corrections(self, corrections: Sequence[Correction], *, batch_size: int | None = None,
                                 timeout: float | None = None) -> list[CorrectionResult]:
        """As Client.submit_corrections (requests one after another)."""
        results: list[CorrectionResult] = []
        pending = list(chunks(corrections, batch_size or self._batch_size))
        while pending:
            part = pending.pop(0)
            try:
                results += _convert.correction_results(
                    await self._call("SubmitCorrections", _convert.corrections_request(part), timeout))
            except VerbatimError as exc:
                limit = exc.request_limit
                if limit is None or limit >= len(part):
                    raise
                self._batch_size = limit
                pending[:0] = chunks(part, limit)
        return results

    async def put_tags(self, tags: Sequence[Tag], *, account: str = DEFAULT_ACCOUNT,
                       timeout: float | None = None) -> list[Tag]:
        """As Client.put_tags."""
        request = pb.PutTagsRequest(account_id=account, tags=[_convert.tag_to_proto(t) for t in tags])
        return _convert.tags((await self._call("PutTags", request, timeout)).tags)

    async def create_account(self, account_id: str, *, industry: str = "",
                             timeout: float | None = None) -> Account:
        """As Client.create_account."""
        request = pb.CreateAccountRequest(account_id=account_id, industry=industry)
        return _convert.account(await self._call("CreateAccount", request, timeout))

    async def list_tags(self, *, account: str = DEFAULT_ACCOUNT, timeout: float | None = None) -> list[Tag]:
        """As Client.list_tags."""
        return _convert.tags((await self._call("ListTags", pb.ListTagsRequest(account_id=account), timeout)).tags)

    async def delete_tag(self, name: str, *, account: str = DEFAULT_ACCOUNT,
                         timeout: float | None = None) -> list[Tag]:
        """As Client.delete_tag."""
        request = pb.DeleteTagRequest(account_id=account, name=name)
        return _convert.tags((await self._call("DeleteTag", request, timeout)).tags)

    async def get_model_info(self, *, account: str | None = None, timeout: float | None = None) -> ModelInfo:
        """As Client.get_model_info."""
        return _convert.model_info(await self._call("GetModelInfo", _convert.model_info_request(account), timeout))

    async def _call(self, rpc: str, request: Any, timeout: float | None) -> Any:
        method = getattr(self._stub, rpc)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._retrier.budget.on_call()
        attempts = 0
        while True:
            attempts += 1
            try:
                return await method(request, timeout=max(deadline - time.monotonic(), 0.001),
                                          metadata=self._metadata)
            except aio.AioRpcError as exc:
                wait = self._retrier.delay(exc.code(), attempts, deadline - time.monotonic())
                if wait is None:
                    raise VerbatimError(exc.code(), exc.details() or "", self.target, attempts) from exc
                await asyncio.sleep(wait)
