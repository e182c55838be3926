from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Sequence
from typing import Any

import numpy as np
import pytest

from verbatim.models.predictor import Scores
from verbatim.models.types import Prediction, Sentiment, TagPrediction, TagSource
from verbatim.service.batcher import Batcher, WorkItem, plan_passes
from verbatim.service.errors import DeadlineExpired, QueueFull, ShuttingDown


class FakePredictor:
    """Records what it computes; its theme score for a row is that row's token count,
    and its decision names the text, so tests can check rows reach the right caller."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail
        self.batches: list[list[int]] = []  # token counts per batch, in the order infer saw them
        self.decided: list[str] = []
        self.threads: set[int] = set()
        self.started = threading.Event()

    def infer(self, token_ids: Sequence[Sequence[int]], accounts: Sequence[str] | None = None) -> Scores:
        self.threads.add(threading.get_ident())
        self.batches.append([len(ids) for ids in token_ids])
        self.started.set()
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("model exploded")
        lengths = np.array([[len(ids)] for ids in token_ids], dtype=np.float32)
        sentiment = np.tile(np.array([0.2, 0.3, 0.5]), (len(token_ids), 1))
        return Scores(themes=lengths, sentiment=sentiment, tag_sentiment=sentiment[:, None, :])

    def decide(self, text: str, account: str, themes: np.ndarray, sentiment: np.ndarray,
               tag_sentiment: np.ndarray) -> Prediction:
        self.decided.append(text)
        tag = TagPrediction(name=f"{account}/{text}/{int(themes[0])}", parent=None, confidence=1.0,
                            source=TagSource.MODEL)
        return Prediction(tags=(tag,), sentiment=Sentiment.from_probabilities(sentiment.tolist()), needs_review=False)


def item(text: str, predictor: FakePredictor, length: int, deadline: float | None = None,
         account: str = "default") -> WorkItem:
    return WorkItem(text=text, account=account, token_ids=list(range(length)), predictor=predictor, deadline=deadline)


def make(**overrides: Any) -> Batcher:
    settings: dict[str, Any] = {"max_batch_comments": 64, "max_batch_tokens": 8192, "max_delay_s": 0.0,
                                "capacity": 100} | overrides
    return Batcher(**settings)


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout=20))


async def started(predictor: FakePredictor) -> None:
    assert await asyncio.get_running_loop().run_in_executor(None, predictor.started.wait, 5)


def test_results_reach_their_callers_after_the_batch_is_sorted_by_length() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_delay_s=0.05)
        lengths = [5, 1, 3, 2, 4]
        futures = batcher.submit([item(f"t{n}", predictor, n) for n in lengths])
        results = await asyncio.gather(*futures)
        assert [r.tags[0].name for r in results] == [f"default/t{n}/{n}" for n in lengths]
        assert predictor.batches == [[1, 2, 3, 4, 5]]
        await batcher.close()

    run(main())


def test_batches_are_capped_by_comment_count() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_batch_comments=4, max_delay_s=0.05)
        await asyncio.gather(*batcher.submit([item(str(i), predictor, 3) for i in range(10)]))
        assert [len(b) for b in predictor.batches] == [4, 4, 2]
        assert batcher.stats.sizes == Counter({4: 2, 2: 1})
        assert batcher.stats.batches == 3 and batcher.stats.comments == 10
        assert batcher.stats.mean_batch_size == pytest.approx(10 / 3)
        assert batcher.stats.max_batch_size == 4
        await batcher.close()

    run(main())


def test_batches_are_capped_by_padded_tokens_size_times_longest() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_batch_tokens=25, max_delay_s=0.05)
        await asyncio.gather(*batcher.submit([item(str(i), predictor, 10) for i in range(5)]))
        assert predictor.batches == [[10, 10], [10, 10], [10]]  # 3 x 10 = 30 > 25
        predictor.batches.clear()
        # Three short ones fit (3 x 2 = 6); adding a 20-token one would pad all four to 20.
        await asyncio.gather(*batcher.submit([item(str(i), predictor, n) for i, n in enumerate([2, 2, 2, 20])]))
        assert predictor.batches == [[2, 2, 2], [20]]
        assert batcher.stats.padded_tokens == 20 + 20 + 10 + 6 + 20
        await batcher.close()

    run(main())


def test_padded_tokens_count_each_forward_pass_at_its_own_width() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_delay_s=0.05)
        await asyncio.gather(*batcher.submit([item(str(i), predictor, n) for i, n in enumerate([10] * 30 + [120] * 2)]))
        assert [len(b) for b in predictor.batches] == [30, 2]  # one batch, cut into two passes
        assert batcher.stats.batches == 1 and batcher.stats.padded_tokens == 30 * 10 + 2 * 120  # not 32 x 120
        await batcher.close()

    run(main())


def test_a_comment_longer_than_the_token_cap_still_runs_alone() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_batch_tokens=8, max_delay_s=0.05)
        results = await asyncio.gather(*batcher.submit([item("long", predictor, 20), item("short", predictor, 1)]))
        assert predictor.batches == [[20], [1]]
        assert [r.tags[0].name for r in results] == ["default/long/20", "default/short/1"]
        await batcher.close()

    run(main())


def test_the_worker_waits_for_company_but_at_most_max_delay() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_delay_s=0.3)
        t0 = time.monotonic()
        first = batcher.submit([item("a", predictor, 2)])
        await asyncio.sleep(0.05)
        second = batcher.submit([item("b", predictor, 2)])
        await asyncio.gather(*first, *second)
        waited = time.monotonic() - t0
        assert predictor.batches == [[2, 2]]  # b arrived within a's delay and joined its batch
        assert 0.25 <= waited < 1.5
        await batcher.close()

    run(main())


def test_a_full_batch_does_not_wait_for_the_delay() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_batch_comments=2, max_delay_s=10.0)
        t0 = time.monotonic()
        await asyncio.gather(*batcher.submit([item("a", predictor, 2), item("b", predictor, 2)]))
        assert time.monotonic() - t0 < 2.0
        await batcher.close()

    run(main())


def test_submit_raises_queue_full_at_once_when_the_items_do_not_fit() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.3)
        batcher = make(capacity=3)
        running = batcher.submit([item("a", predictor, 2)])
        await started(predictor)  # a left the queue and is computing
        queued = batcher.submit([item("b", predictor, 2), item("c", predictor, 2)])
        assert batcher.depth == 2
        t0 = time.monotonic()
        with pytest.raises(QueueFull, match=r"2 comments do not fit in the queue \(1 of 3 free\)"):
            batcher.submit([item("d", predictor, 2), item("e", predictor, 2)])
        assert time.monotonic() - t0 < 0.05
        assert batcher.depth == 2 and batcher.stats.rejected == 2  # all or nothing
        await asyncio.gather(*running, *queued)
        await asyncio.gather(*batcher.submit([item("d", predictor, 2), item("e", predictor, 2)]))
        assert "d" in predictor.decided
        await batcher.close()

    run(main())


def test_expired_comments_are_dropped_before_compute() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.3)
        batcher = make()
        running = batcher.submit([item("a", predictor, 2)])
        await started(predictor)
        [late] = batcher.submit([item("late", predictor, 2, deadline=time.monotonic() + 0.05)])
        [fine] = batcher.submit([item("fine", predictor, 2, deadline=time.monotonic() + 30)])
        await asyncio.gather(*running)
        with pytest.raises(DeadlineExpired):
            await late
        await fine
        assert "late" not in predictor.decided and "fine" in predictor.decided
        assert all(len(batch) == 1 for batch in predictor.batches)
        assert batcher.stats.expired == 1
        await batcher.close()

    run(main())


def test_a_batch_holds_comments_of_one_predictor_only() -> None:
    async def main() -> None:
        old, new = FakePredictor(), FakePredictor()
        batcher = make(max_delay_s=0.05)
        items = [item(f"{i}", old if i % 2 else new, 3, account="acme" if i % 3 else "default") for i in range(9)]
        results = await asyncio.gather(*batcher.submit(items))
        assert sorted(old.decided) == [str(i) for i in range(9) if i % 2]
        assert sorted(new.decided) == [str(i) for i in range(9) if not i % 2]
        assert sum(len(b) for b in old.batches) == 4 and sum(len(b) for b in new.batches) == 5
        assert [r.tags[0].name.split("/")[:2] for r in results] == [[i.account, i.text] for i in items]
        await batcher.close()

    run(main())


def test_inference_runs_off_the_event_loop() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.4)
        batcher = make()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.gather(*batcher.submit([item("a", predictor, 2)]))
        task.cancel()
        assert ticks >= 5  # the loop kept running while the model computed
        assert threading.get_ident() not in predictor.threads
        await batcher.close()

    run(main())


def test_a_failing_batch_fails_its_callers_and_the_worker_carries_on() -> None:
    async def main() -> None:
        broken, healthy = FakePredictor(fail=True), FakePredictor()
        batcher = make(max_delay_s=0.05)
        failing = batcher.submit([item("a", broken, 2), item("b", broken, 2)])
        for future in failing:
            with pytest.raises(RuntimeError, match="model exploded"):
                await future
        [ok] = batcher.submit([item("c", healthy, 2)])
        assert (await ok).tags[0].name == "default/c/2"
        assert batcher.stats.failed_batches == 1 and batcher.stats.batches == 1
        await batcher.close()

    run(main())


def test_cancelled_comments_are_not_computed() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.3)
        batcher = make()
        running = batcher.submit([item("a", predictor, 2)])
        await started(predictor)
        [gone] = batcher.submit([item("gone", predictor, 2)])
        gone.cancel()  # the caller went away
        await asyncio.gather(*running)
        await batcher.drain(timeout=5)
        assert predictor.decided == ["a"] and batcher.depth == 0
        await batcher.close()

    run(main())


def test_drain_finishes_queued_work_then_refuses_new_work() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.05)
        batcher = make(max_batch_comments=2)
        futures = batcher.submit([item(str(i), predictor, 2) for i in range(5)])
        assert await batcher.drain(timeout=10)
        assert all(f.done() and not f.exception() for f in futures)
        with pytest.raises(ShuttingDown):
            batcher.submit([item("x", predictor, 2)])
        await batcher.close()

    run(main())


def test_close_fails_what_is_still_queued() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.3)
        batcher = make()
        batcher.submit([item("a", predictor, 2)])
        await started(predictor)
        [queued] = batcher.submit([item("b", predictor, 2)])
        await batcher.close()
        with pytest.raises(ShuttingDown):
            await queued
        assert "b" not in predictor.decided

    run(main())


def test_plan_passes_cuts_where_lengths_jump_and_only_when_it_pays() -> None:
    assert plan_passes([7] * 20) == [20]  # equal lengths: one pass, nothing to save
    assert plan_passes([2, 3, 4, 5], overhead=32) == [4]  # a few tokens of padding do not pay for a pass
    # 30 short ones padded to 120 would waste 30 x 110 tokens; a second pass costs 32.
    assert plan_passes([10] * 30 + [120] * 2, overhead=32) == [30, 32]
    lengths = sorted(np.random.default_rng(0).integers(1, 128, size=64).tolist())
    ends = plan_passes(lengths, overhead=32)
    assert ends[-1] == 64 and ends == sorted(set(ends))

    def cost(cuts: list[int]) -> int:
        return sum(32 + (e - s) * lengths[e - 1] for s, e in zip([0, *cuts], cuts))
    # Optimal, so no worse than cutting into k equal passes, for any k (k = 1: one padded pass).
    for k in range(1, 65):
        assert cost(ends) <= cost(sorted({round(64 * (i + 1) / k) for i in range(k)}))


def test_a_mixed_batch_runs_as_passes_by_length_and_answers_the_right_callers() -> None:
    async def main() -> None:
        predictor = FakePredictor()
        batcher = make(max_delay_s=0.05)
        lengths = [100, 3, 100, 4, 3, 5, 4, 3]
        results = await asyncio.gather(*batcher.submit([item(f"c{i}", predictor, n) for i, n in enumerate(lengths)]))
        assert predictor.batches == [[3, 3, 3, 4, 4, 5], [100, 100]]
        assert [r.tags[0].name for r in results] == [f"default/c{i}/{n}" for i, n in enumerate(lengths)]
        assert batcher.stats.batches == 1 and batcher.stats.comments == 8
        await batcher.close()

    run(main())


def test_admit_refuses_what_submit_would_refuse_without_queueing_anything() -> None:
    async def main() -> None:
        predictor = FakePredictor(delay=0.3)
        batcher = make(capacity=3)
        running = batcher.submit([item("a", predictor, 2)])
        await started(predictor)
        queued = batcher.submit([item("b", predictor, 2), item("c", predictor, 2)])
        batcher.admit(1)  # one more fits: no error, and nothing was queued by asking
        assert batcher.depth == 2 and batcher.stats.rejected == 0
        with pytest.raises(QueueFull, match=r"2 comments do not fit in the queue \(1 of 3 free\)"):
            batcher.admit(2)
        assert batcher.depth == 2 and batcher.stats.rejected == 2
        await asyncio.gather(*running, *queued)
        await batcher.drain()
        with pytest.raises(ShuttingDown):
            batcher.admit(1)
        await batcher.close()

    run(main())
