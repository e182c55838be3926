"""A full queue answers RESOURCE_EXHAUSTED at once: p99 within 10 ms, measured by the client over
300 refused requests on loopback while a deliberately slow batch holds the queue full."""

from __future__ import annotations

import time

import grpc

from verbatim.models.predictor import Predictor
from tests.service.harness import RecordingPredictor, classify, comment, serving, wait_until

REFUSED = 300
P99_S = 0.010


def test_refusals_of_a_full_queue_are_fast_at_p99(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=1.5)
    with serving(slow, queue_capacity=1, max_comments_per_request=1) as h:
        computing = h.stub.ClassifyComments.future(classify(comment("a", "computing")), timeout=30)
        assert slow.started.wait(10)
        queued = h.stub.ClassifyComments.future(classify(comment("b", "queued")), timeout=30)
        wait_until(lambda: h.server.batcher.depth == 1)
        request = classify(comment("c", "refused"))
        for _ in range(20):  # warm the channel and the code paths; not measured
            try:
                h.stub.ClassifyComments(request, timeout=10)
            except grpc.RpcError:
                pass
        latencies = []
        codes = set()
        for _ in range(REFUSED):
            started = time.perf_counter()
            try:
                h.stub.ClassifyComments(request, timeout=10)
                codes.add(grpc.StatusCode.OK)
            except grpc.RpcError as exc:
                codes.add(exc.code())
            latencies.append(time.perf_counter() - started)
        assert not computing.done(), "the slow batch ended before the measurement did"
        latencies.sort()
        p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
        print(f"queue full: {REFUSED} refusals, p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
              f"max {latencies[-1] * 1000:.2f} ms")
        assert codes == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert p99 <= P99_S, f"p99 {p99 * 1000:.1f} ms"
        assert "refused" not in slow.decided
        assert computing.result().comments and queued.result().comments
