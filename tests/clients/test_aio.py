"""AsyncClient against the real server and the scripted one: same answers, same retry rules."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import grpc
import pytest

from tests.clients.conftest import MAX_COMMENTS
from tests.clients.fake_server import OK, scripted
from verbatim_client import AsyncClient, ClassifiedComment, Client, RetryBudget, RetryPolicy, Tag, VerbatimError

T = TypeVar("T")
FAST = RetryPolicy(initial_backoff=0.01, max_backoff=0.05)


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro
    return asyncio.run(main())


def test_async_classify_many_matches_the_blocking_client(target: str) -> None:
    texts = [f"Slack crashes, support is slow and pricing is unclear ({i})" for i in range(3 * MAX_COMMENTS + 1)]
    with Client(target) as client:
        expected = client.classify_many(texts, batch_size=MAX_COMMENTS)

    async def go() -> list:
        async with AsyncClient(target) as client:
            return await client.classify_many(texts, max_in_flight=2)  # learns the server's limit of 5

    results = run(go())
    assert [r.id for r in results] == [str(i) for i in range(len(texts))]
    assert [summary(r) for r in results] == [summary(r) for r in expected]


def summary(result: ClassifiedComment) -> tuple:
    """What must not depend on how comments were batched (scores move in the last float bits)."""
    return ([(t.name, t.parent, t.source, round(t.confidence, 4)) for t in result.tags], result.sentiment.label,
            round(result.sentiment.score, 4))


def test_async_taxonomy_corrections_and_model_info(target: str) -> None:
    async def go() -> tuple:
        async with AsyncClient(target) as client:
            put = await client.put_tags([Tag("Billing", keywords=("invoice",))], account="async-shop")
            listed = await client.list_tags(account="async-shop")
            info = await client.get_model_info(account="async-shop")
            deleted = await client.put_tags([Tag("Refunds", keywords=("refund",))], account="async-shop")
            after = await client.delete_tag("Billing", account="async-shop")
            return put, listed, info, deleted, after

    put, listed, info, both, after = run(go())
    billing, refunds = Tag("Billing", keywords=("invoice",)), Tag("Refunds", keywords=("refund",))
    assert put == listed == [billing] and both == [billing, refunds] and after == [refunds]
    assert info.accounts == {"async-shop": (billing,)}


def test_async_create_account(target: str) -> None:
    async def go() -> tuple:
        async with AsyncClient(target) as client:
            return await client.create_account("async-news", industry="media"), await client.list_tags(
                account="async-news")

    account, listed = run(go())
    assert (account.account_id, account.industry) == ("async-news", "media") and list(account.tags) == listed
    assert [t.name for t in listed][:2] == ["Content", "Streaming quality"]


def test_async_retries_resource_exhausted_but_not_invalid_argument() -> None:
    async def classify(target: str) -> list:
        async with AsyncClient(target, retry=FAST) as client:
            return await client.classify(["x"])

    with scripted(grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.RESOURCE_EXHAUSTED, OK) as (target, servicer):
        [result] = run(classify(target))
    assert len(servicer.calls) == 3 and result.model_version == "fake-1"
    with scripted(grpc.StatusCode.INVALID_ARGUMENT, OK) as (target, servicer):
        with pytest.raises(VerbatimError) as info:
            run(classify(target))
    assert len(servicer.calls) == 1 and info.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_async_budget_and_deadline() -> None:
    async def twice(target: str) -> int:
        budget = RetryBudget(ratio=0.0, floor=1)
        failures = 0
        async with AsyncClient(target, retry=RetryPolicy(max_attempts=5, initial_backoff=0.001, max_backoff=0.001),
                               budget=budget) as client:
            for _ in range(2):
                try:
                    await client.classify(["x"])
                except VerbatimError:
                    failures += 1
        return failures

    with scripted(grpc.StatusCode.UNAVAILABLE) as (target, servicer):
        assert run(twice(target)) == 2
    assert len(servicer.calls) == 2 + 1

    async def slow(target: str) -> None:
        async with AsyncClient(target, timeout=5) as client:
            await client.classify(["x"], timeout=0.2)

    with scripted(OK, delay=1.0) as (target, servicer), pytest.raises(VerbatimError) as info:
        run(slow(target))
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and info.value.attempts == 1
