"""`verbatim bench soak --minutes N`: hold a fraction (70 %) of the measured peak for minutes, with mixed RPCs.

`verbatim serve` runs as a process on loopback with a SQLite store of its own. First the peak: closed-loop
ClassifyComments for a few seconds. Then Poisson arrivals for N minutes: ClassifyComments at the fraction
of that peak, plus SubmitCorrections (unique ids) and ListTags at an eighth of that rate each. Reported:
per minute, the requests, the errors by status code and the p99 latency (from the scheduled send time, so a
stalled client cannot hide a slow server); the error rate overall (RESOURCE_EXHAUSTED, the deliberate
refusal of overload, apart); the server's resident memory at the start and the end of the run and its
drift; and whether every acknowledged correction is in the store afterwards.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from google.protobuf.timestamp_pb2 import Timestamp
from tqdm import tqdm

from verbatim.bench.load import ServerProcess, build_requests, classify_call, closed_loop, loopback_server
from verbatim.bench.serve import seed_texts
from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb

PEAK_CLIENTS = 8
RSS_EVERY_S = 5.0
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SoakConfig:
    registry: Path
    minutes: float = 10.0
    fraction: float = 0.7  # of the measured peak
    comments: int = 8  # per ClassifyComments
    peak_seconds: float = 8.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise ValueError(f"--fraction must be in (0, 1], got {self.fraction}")
        if self.minutes <= 0:
            raise ValueError(f"--minutes must be positive, got {self.minutes}")


def run(config: SoakConfig, progress: bool = True) -> dict[str, Any]:
    """Start the server, measure the peak, soak, and report."""
    if Registry(config.registry).champion_path() is None:
        raise RuntimeError(f"no champion in {config.registry}: run `verbatim train` first")
    with tempfile.TemporaryDirectory(prefix="verbatim-soak-") as workdir:
        server, store_url = loopback_server(config.registry, Path(workdir))
        try:
            server.wait_serving(600)
            report = asyncio.run(_soak(server, config, progress))
        finally:
            server.stop()
        with Store(store_url) as store:
            stored = {c.correction_id for c in store.corrections()}
    missing = sorted(set(report.pop("acknowledged")) - stored)
    report["corrections"] = {"acknowledged": report["corrections_acknowledged"], "missing": len(missing)}
    del report["corrections_acknowledged"]
    return report


async def _soak(server: ServerProcess, config: SoakConfig, progress: bool) -> dict[str, Any]:
    requests = build_requests(seed_texts(), config.comments, 64)
    async with grpc.aio.insecure_channel(server.target) as channel:
        peak = await closed_loop([classify_call(channel)], requests, config.comments, PEAK_CLIENTS, server,
                                 warmup_s=2.0, seconds=config.peak_seconds)
        peak_rps = peak.cps / config.comments
        rate = config.fraction * peak_rps
        calls = _Calls(channel, requests)
        records: list[tuple[float, str, float, str]] = []  # (second, rpc, latency s, code)
        rss: list[tuple[float, float]] = []
        rng = random.Random(config.seed)
        seconds = config.minutes * 60
        begin = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()

        async def one(kind: str, due: float) -> None:
            code = await calls.call(kind)
            records.append((due - begin, kind, time.perf_counter() - due, code))

        with tqdm(total=int(seconds), unit="s", desc="soak", disable=not progress) as bar:
            at, next_rss, shown = begin, begin, 0
            total_rate = rate * 1.25  # classify, plus corrections and taxonomy reads at rate / 8 each
            while (now := time.perf_counter()) - begin < seconds:
                if now >= next_rss:
                    rss.append((now - begin, server.rss_mb()))
                    next_rss += RSS_EVERY_S
                at += rng.expovariate(total_rate)
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                draw = rng.random() * 1.25
                kind = "ClassifyComments" if draw < 1 else ("SubmitCorrections" if draw < 1.125 else "ListTags")
                task = asyncio.create_task(one(kind, at))
                pending.add(task)
                task.add_done_callback(pending.discard)
                if int(now - begin) > shown:
                    bar.update(int(now - begin) - shown)
                    shown = int(now - begin)
            await asyncio.gather(*pending, return_exceptions=True)
        rss.append((time.perf_counter() - begin, server.rss_mb()))
    return _summary(config, peak_rps, rate, records, rss, calls)


class _Calls:
    """The three RPCs of the mix, raw bytes in and out; each answer's status code."""

    def __init__(self, channel: grpc.aio.Channel, classify_requests: list[bytes]) -> None:
        self._classify = classify_call(channel)
        self._requests = classify_requests
        self._corrections = channel.unary_unary("/verbatim.v1.Verbatim/SubmitCorrections")
        self._list_tags = channel.unary_unary("/verbatim.v1.Verbatim/ListTags")
        self._stamp = Timestamp()
        self._stamp.FromDatetime(datetime(2026, 1, 1, tzinfo=timezone.utc))
        self._n = 0
        self.acknowledged: list[str] = []

    async def call(self, kind: str) -> str:
        self._n += 1
        try:
            if kind == "ClassifyComments":
                await self._classify(self._requests[self._n % len(self._requests)])
            elif kind == "SubmitCorrections":
                cid = f"soak-{self._n}"
                request = pb.SubmitCorrectionsRequest(corrections=[pb.Correction(
                    correction_id=cid, comment_id=f"comment-{self._n}", text=f"The export keeps failing ({self._n})",
                    tag="Bug", action=pb.CORRECTION_ACTION_ADD, actor="soak", time=self._stamp)])
                await self._corrections(request.SerializeToString(), timeout=TIMEOUT_S)
                self.acknowledged.append(cid)
            else:
                await self._list_tags(pb.ListTagsRequest().SerializeToString(), timeout=TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
        return "OK"


def _summary(config: SoakConfig, peak_rps: float, rate: float, records: list[tuple[float, str, float, str]],
             rss: list[tuple[float, float]], calls: _Calls) -> dict[str, Any]:
    minutes = []
    for minute in range(int(np.ceil(config.minutes))):
        inside = [r for r in records if minute * 60 <= r[0] < (minute + 1) * 60]
        ok = [r[2] for r in inside if r[3] == "OK"]
        minutes.append({"minute": minute + 1, "requests": len(inside),
                        "errors": dict(Counter(r[3] for r in inside if r[3] != "OK")),
                        "p99_ms": float(np.percentile(ok, 99) * 1000) if ok else None})
    codes = Counter(r[3] for r in records)
    unexpected = sum(n for code, n in codes.items() if code not in ("OK", "RESOURCE_EXHAUSTED"))
    first = [mb for t, mb in rss if t <= 60] or [rss[0][1]]
    last = [mb for t, mb in rss if t >= rss[-1][0] - 60] or [rss[-1][1]]
    start_mb, end_mb = float(np.mean(first)), float(np.mean(last))
    return {
        "minutes": config.minutes, "fraction": config.fraction, "comments_per_request": config.comments,
        "peak_requests_per_s": peak_rps, "target_classify_per_s": rate, "requests": len(records),
        "codes": dict(codes), "error_rate": unexpected / max(len(records), 1),
        "overload_rate": codes.get("RESOURCE_EXHAUSTED", 0) / max(len(records), 1),
        "per_minute": minutes, "rss_mb": {"first_minute": start_mb, "last_minute": end_mb,
                                          "drift_pct": 100 * (end_mb - start_mb) / start_mb},
        "corrections_acknowledged": len(calls.acknowledged), "acknowledged": calls.acknowledged,
    }


def format_table(report: dict[str, Any]) -> str:
    lines = [f"soak: {report['minutes']:g} min at {report['fraction']:.0%} of the peak "
             f"({report['peak_requests_per_s']:.1f} ClassifyComments/s of {report['comments_per_request']} comments), "
             f"{report['requests']} requests, mixed with SubmitCorrections and ListTags",
             f"  error rate {report['error_rate']:.4%} (RESOURCE_EXHAUSTED apart: {report['overload_rate']:.4%}); "
             f"codes {report['codes']}",
             f"  server RSS {report['rss_mb']['first_minute']:.0f} MB (first minute) -> "
             f"{report['rss_mb']['last_minute']:.0f} MB (last minute): drift {report['rss_mb']['drift_pct']:+.1f} %",
             f"  corrections acknowledged {report['corrections']['acknowledged']}, missing from the store "
             f"{report['corrections']['missing']}",
             "  minute  requests  p99 ms  errors"]
    for m in report["per_minute"]:
        p99 = f"{m['p99_ms']:7.0f}" if m["p99_ms"] is not None else "      –"
        lines.append(f"  {m['minute']:6d}  {m['requests']:8d}  {p99}  {m['errors'] or ''}")
    return "\n".join(lines)
