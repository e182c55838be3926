"""SummarizeResponses against `verbatim serve` as a real process: 20,000 responses carrying 40 MB of
comment text in one stream, and the server's memory stays bounded while it reads them.

The bound: the server's resident set grows by less than MAX_GROWTH_MB over its level after a warm-up
call, while the stream carries several times that in text alone, so a server that buffered the stream
(or kept the responses) could not pass. The answer must equal the in-process analytics on the same
responses.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from verbatim.analytics import SummaryOptions, summarize_responses
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.service.summary_convert import summary_from_proto
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

from tests.serve_process import verbatim_serve
from tests.service.summary_stream import random_responses, stream, to_proto

RESPONSES = 20_000
TEXT_CHARS = 2_000  # 40 MB of comment text in the stream
PER_MESSAGE = 500
MAX_GROWTH_MB = 25


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc status")


class PeakSampler:
    """The highest resident set of a process, sampled every few milliseconds on a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.005)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc")
@pytest.mark.timeout(300)
def test_a_long_stream_keeps_server_memory_bounded_and_matches_in_process(tiny_registry: Registry,
                                                                            tiny_predictor: Predictor,
                                                                            tmp_path: Path) -> None:
    taxonomy = tiny_predictor.taxonomy("default")
    registry = shutil.copytree(tiny_registry.root, tmp_path / "registry")
    with verbatim_serve(registry, f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "serve.log",
                        max_comments_per_request=str(PER_MESSAGE)) as (process, target):
        with grpc.insecure_channel(target) as channel:
            stub = pb_grpc.VerbatimStub(channel)
            def wire(seed: int, count: int) -> Iterator[pb.SummarizeResponsesRequest]:
                return stream((to_proto(r) for r in random_responses(count, taxonomy, seed=seed,
                                                                    text_chars=TEXT_CHARS)),
                              PER_MESSAGE, pb.SummaryOptions(segment_by="region"))

            stub.SummarizeResponses(wire(seed=0, count=4000), timeout=120)  # warm-up: lazy allocations
            baseline = rss_mb(process.pid)
            with PeakSampler(process.pid) as sampler:
                answer = stub.SummarizeResponses(wire(seed=1, count=RESPONSES), timeout=240)
            growth = sampler.peak - baseline
    expected = summarize_responses(random_responses(RESPONSES, taxonomy, seed=1, text_chars=TEXT_CHARS), taxonomy,
                                   segment_by="region", options=SummaryOptions())
    assert summary_from_proto(answer.summary) == expected
    assert answer.given == RESPONSES
    text_mb = RESPONSES * TEXT_CHARS / 1e6
    assert growth < MAX_GROWTH_MB, f"server RSS grew {growth:.1f} MB over {baseline:.0f} MB " \
                                   f"while reading {text_mb:.0f} MB of text"

