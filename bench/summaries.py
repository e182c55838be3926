"""`verbatim bench summaries`: how long the Tags tab takes for N responses whose tags are given.

Two paths, interleaved repeat by repeat so both see the same machine: the analytics alone, in this
process (`summarize_responses` over responses already in memory), and SummarizeResponses through
`verbatim serve` as a process on loopback (the request messages are built before the clock starts, so the
figure is the server's parsing, checking and counting, plus the transport). Both answers must be equal.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import grpc
from tqdm import tqdm

from verbatim.analytics import Period, Response, Score, SummaryOptions, SurveyType, summarize_responses
from verbatim.bench.load import loopback_server
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_TAXONOMY, Taxonomy
from verbatim.models.types import SENTIMENT_LABELS, Sentiment
from verbatim.service.summary_convert import summary_from_proto, summary_options_to_proto, survey_response_to_proto
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

START = datetime(2026, 4, 1, tzinfo=timezone.utc)
CURRENT = Period(datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc))
PRIOR = Period(START, CURRENT.start)
PER_MESSAGE = 256  # the server's default per-request limit


def synthetic_responses(count: int, taxonomy: Taxonomy, seed: int) -> list[Response]:
    """Tagged NPS responses over two quarters: one to three tags each, a sentiment, a plan and a region;
    one in eight without a comment, one in ten without a score."""
    rng = random.Random(seed)
    names = taxonomy.names
    out = []
    for i in range(count):
        commented = rng.random() > 0.125
        label = rng.choice(SENTIMENT_LABELS)
        out.append(Response(
            time=START + timedelta(seconds=rng.randrange(183 * 86400)), text=f"comment {i}" if commented else None,
            tags=frozenset(rng.sample(names, rng.randint(1, 3))) if commented else frozenset(),
            sentiment=Sentiment(label, round(rng.uniform(-1, 1), 3), {}) if commented else None,
            score=Score(rng.randint(0, 10), SurveyType.NPS) if rng.random() > 0.1 else None,
            properties={"plan": rng.choice(("team", "enterprise")), "region": rng.choice(("NA", "EMEA", "APAC"))}))
    return out


def run(registry: Path, responses: int = 100_000, repeats: int = 3, seed: int = 0,
        progress: bool = True) -> dict[str, Any]:
    """Median seconds of each path over `repeats`, and the check that both answers agree."""
    if Registry(registry).champion_path() is None:
        raise RuntimeError(f"no champion in {registry}: the server needs one to start; run `verbatim train`")
    data = synthetic_responses(responses, DEFAULT_TAXONOMY, seed)
    options = SummaryOptions()
    first = summary_options_to_proto("default", period=CURRENT, compare_to=PRIOR, segment_by="plan", tz_name="UTC",
                                     options=options)
    wire = [survey_response_to_proto(r, given=True) for r in data]
    messages = [pb.SummarizeResponsesRequest(options=first if i == 0 else None, responses=wire[i:i + PER_MESSAGE])
                for i in range(0, len(wire), PER_MESSAGE)]
    timings: dict[str, list[float]] = {"in_process": [], "grpc": []}
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-summaries-") as workdir:
        server, _ = loopback_server(registry, Path(workdir))
        try:
            server.wait_serving(600)
            with grpc.insecure_channel(server.target) as channel:
                stub = pb_grpc.VerbatimStub(channel)
                for _ in tqdm(range(repeats), desc="repeats", disable=not progress):
                    started = time.perf_counter()
                    expected = summarize_responses(data, DEFAULT_TAXONOMY, period=CURRENT, compare_to=PRIOR,
                                                   segment_by="plan", options=options)
                    timings["in_process"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    answer = stub.SummarizeResponses(iter(messages), timeout=600)
                    timings["grpc"].append(time.perf_counter() - started)
                    if summary_from_proto(answer.summary) != expected:
                        raise RuntimeError("the server's summary differs from the in-process one")
        finally:
            server.stop()
    return {"responses": responses, "repeats": repeats, "seed": seed,
            "median_s": {path: statistics.median(values) for path, values in timings.items()},
            "seconds": timings, "grpc_over_in_process": statistics.median(
                g / i for g, i in zip(timings["grpc"], timings["in_process"], strict=True))}


def format_table(report: dict[str, Any]) -> str:
    lines = [f"Tags tab of {report['responses']:,} responses with given tags "
             f"(median of {report['repeats']} interleaved repeats)"]
    for path, label in (("in_process", "analytics in process"), ("grpc", "SummarizeResponses over loopback")):
        seconds = report["median_s"][path]
        lines.append(f"  {label:34} {seconds:6.2f} s   {report['responses'] / seconds:10,.0f} responses/s")
    lines.append(f"  gRPC / in process (median of per-repeat ratios): {report['grpc_over_in_process']:.2f}")
    return "\n".join(lines)
