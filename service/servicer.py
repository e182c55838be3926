"""The Verbatim gRPC servicer: a thin adapter from the wire to the model, batcher and store.

The store is synchronous, so its calls run in its own bounded pool of threads (StoreExecutor);
each one commits before it returns, so an RPC that answers OK has made its change durable.
Tokenising runs in a thread too: up to 256 comments of 5,000 characters would hold the event
loop for tens of milliseconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager

from grpc import aio

from verbatim.models.industries import DEFAULT_INDUSTRY
from verbatim.models.predictor import Predictor
from verbatim.models.taxonomy import Taxonomy
from verbatim.service import convert, summary_convert
from verbatim.service.auth import caller
from verbatim.service.batcher import Batcher, WorkItem, gather_predictions
from verbatim.service.errors import NoStore
from verbatim.service.metrics import Metrics
from verbatim.service.model_slot import ModelSlot
from verbatim.service.store_executor import StoreExecutor
from verbatim.service.summaries import StreamSummary
from verbatim.service.validation import (RequestLimits, check_account, validate_classify, validate_corrections,
                                validate_put_tags)
from verbatim.store import Store, UnknownAccount, UnknownTag
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Verbatim"].full_name

# Called with the account after its taxonomy changed here; returns once the change is served.
TaxonomyChanged = Callable[[str], Awaitable[object]]


class VerbatimServicer(pb_grpc.VerbatimServicer):
    def __init__(self, slot: ModelSlot, batcher: Batcher, limits: RequestLimits,
                 metrics: Metrics | None = None, *, store: Store | None = None,
                 taxonomy_changed: TaxonomyChanged | None = None,
                 corrections_stored: Callable[[int], None] | None = None,
                 store_calls: StoreExecutor | None = None) -> None:
        self._slot = slot
        self._batcher = batcher
        self._limits = limits
        self._metrics = metrics
        self._store = store
        self._taxonomy_changed = taxonomy_changed
        self._corrections_stored = corrections_stored
        self._store_calls = store_calls or StoreExecutor()

    async def ClassifyComments(self, request: pb.ClassifyCommentsRequest,
                               context: aio.ServicerContext) -> pb.ClassifyCommentsResponse:
        predictor = self._slot.current()  # this request's model, even if a new one is swapped in
        # Refuse before parsing and tokenising: under overload, refusals must stay cheap.
        # (An oversize request is left to validation: INVALID_ARGUMENT, not a retryable
        # RESOURCE_EXHAUSTED.) Room may vanish while the texts are tokenised; submit() checks again.
        if len(request.comments) <= self._limits.max_comments:
            self._batcher.admit(len(request.comments))
        query = convert.classify_request_from_proto(request)
        validate_classify(query, self._limits, _taxonomies(predictor))
        token_ids = await asyncio.to_thread(predictor.encode, [c.text for c in query.comments])
        deadline = _deadline(context)
        futures = self._batcher.submit([WorkItem(c.text, query.account_id, ids, predictor, deadline)
                                        for c, ids in zip(query.comments, token_ids, strict=True)])
        predictions = [query.options.apply(p) for p in await gather_predictions(futures)]
        if self._metrics is not None:
            self._metrics.observe_predictions(query.account_id, predictions)
        return convert.classify_response_to_proto(predictor.version, [c.id for c in query.comments], predictions)

    async def SummarizeResponses(self, request_iterator: AsyncIterator[pb.SummarizeResponsesRequest],
                                 context: aio.ServicerContext) -> pb.SummarizeResponsesResponse:
        predictor = self._slot.current()  # one model for the whole stream
        request, batches = await summary_convert.read_summary_stream(request_iterator, self._limits)
        observe = self._metrics.observe_predictions if self._metrics is not None else None
        summary = StreamSummary(request, predictor, self._batcher, deadline=_deadline(context), observe=observe)
        return summary_convert.summary_result_to_proto(await summary.run(batches))

    async def GetModelInfo(self, request: pb.GetModelInfoRequest,
                           context: aio.ServicerContext) -> pb.GetModelInfoResponse:
        predictor = self._slot.current()
        taxonomies = _taxonomies(predictor)
        account = convert.model_info_account_from_proto(request)
        if account is not None:
            taxonomies = {account: check_account("account_id", account, taxonomies)}
        elif (key := caller()) is not None:  # a key sees only its own accounts
            taxonomies = {a: t for a, t in taxonomies.items() if key.may_use(a)}
        return convert.model_info_to_proto(predictor.meta, taxonomies, predictor.industries)

    async def SubmitCorrections(self, request: pb.SubmitCorrectionsRequest,
                                context: aio.ServicerContext) -> pb.SubmitCorrectionsResponse:
        store = self._require_store("SubmitCorrections")
        validate_corrections([c.text for c in request.corrections], self._limits)
        key = caller()
        corrections = convert.corrections_from_proto(request, key_name=key.name if key is not None else None)
        result = await self._store_calls.run(store.submit_corrections, corrections)
        if self._metrics is not None:
            self._metrics.observe_corrections(corrections, result)
        if self._corrections_stored is not None:
            self._corrections_stored(result.accepted)
        return convert.submit_result_to_proto(corrections, result)

    async def PutTags(self, request: pb.PutTagsRequest, context: aio.ServicerContext) -> pb.PutTagsResponse:
        store = self._require_store("PutTags")
        validate_put_tags([len(t.keywords) for t in request.tags], self._limits)
        account = convert.account_from_proto(request.account_id)
        taxonomy = await self._store_calls.run(store.put_tags, account, convert.tags_from_proto(request.tags),
                                               max_tags=self._limits.max_tags_per_account)
        await self._served(account)
        return pb.PutTagsResponse(tags=convert.taxonomy_to_proto(taxonomy))

    async def CreateAccount(self, request: pb.CreateAccountRequest,
                            context: aio.ServicerContext) -> pb.CreateAccountResponse:
        store = self._require_store("CreateAccount")
        industry = request.industry or DEFAULT_INDUSTRY
        taxonomy = await self._store_calls.run(store.create_account, request.account_id, industry)
        await self._served(request.account_id)
        return pb.CreateAccountResponse(account_id=request.account_id, industry=industry,
                                        tags=convert.taxonomy_to_proto(taxonomy))

    async def ListTags(self, request: pb.ListTagsRequest, context: aio.ServicerContext) -> pb.ListTagsResponse:
        store = self._require_store("ListTags")
        with _request_fields():
            taxonomy = await self._store_calls.run(store.taxonomy, convert.account_from_proto(request.account_id))
        return pb.ListTagsResponse(tags=convert.taxonomy_to_proto(taxonomy))

    async def DeleteTag(self, request: pb.DeleteTagRequest, context: aio.ServicerContext) -> pb.DeleteTagResponse:
        store = self._require_store("DeleteTag")
        account = convert.account_from_proto(request.account_id)
        with _request_fields():
            taxonomy = await self._store_calls.run(store.delete_tag, account, request.name)
        await self._served(account)
        return pb.DeleteTagResponse(tags=convert.taxonomy_to_proto(taxonomy))

    def _require_store(self, rpc: str) -> Store:
        if self._store is None:
            raise NoStore(rpc)
        return self._store

    async def _served(self, account: str) -> None:
        if self._taxonomy_changed is not None:
            await self._taxonomy_changed(account)


@contextmanager
def _request_fields() -> Iterator[None]:
    """Name the request field in the store's lookup errors, as every INVALID_ARGUMENT message does."""
    try:
        yield
    except UnknownAccount as exc:
        if exc.field is not None:
            raise
        raise UnknownAccount(exc.account, field="account_id") from None
    except UnknownTag as exc:
        if exc.field is not None:
            raise
        raise UnknownTag(exc.account, exc.tag, field="name") from None


def _deadline(context: aio.ServicerContext) -> float | None:
    """The caller's deadline on the monotonic clock, None without one."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


def _taxonomies(predictor: Predictor) -> dict[str, Taxonomy]:
    # The predictor's own view, not the artifact's: it may serve live taxonomies.
    return {account: predictor.taxonomy(account) for account in predictor.accounts}
