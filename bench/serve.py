"""`verbatim bench serve`: the serving benchmark, run side by side over loopback.

One run measures, in interleaved repeats:
  (a) the ceiling: in-process `Predictor.predict` over seed comments in length-sorted
      batches, same backend and threads, no gRPC; the batch size is the fastest of
      CEILING_BATCHES and the server's max_batch_comments (small sorted batches pad least);
  (b) verbatim: `verbatim serve` as a subprocess, C concurrent closed-loop clients
      (C = 1, 8, 32, 128), each sending requests of 1 and of 32 comments;
  (c) the naive baseline: `python -m verbatim.bench.naive_server`, one forward per request;
then, for verbatim, open-loop Poisson arrivals of single comments at half the peak
single-comment rate of that repeat, the mean batch size at 32 single-comment clients
(from the server's /metrics), and the servers' peak RSS (VmHWM).

The machine is shared, so figures are medians over repeats, and the ratios compare
figures taken in the same run, the order of verbatim and naive alternating per repeat.
The C=1 single-comment setting is count-bounded (200 calls, issue 3's p50); the others
are time-bounded, with a window stretched to hold many batches.

The clients run in this process, on grpc.aio. A client process of its own would not free
a core on a 2-core machine, only add scheduling; instead the client is kept cheap
(pre-serialised requests, answers left unparsed) and its CPU use is reported per setting
(`client_cores`) beside the server's, so a reader sees what the load itself cost.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
from tqdm import tqdm

from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.bench.load import Sample, ServerProcess, build_requests, classify_call, closed_loop, free_port, open_loop
from verbatim.bench.report import Report, Setting, build_report
from verbatim.training.corpus import SPLITS, seed_split

REQUESTS_PER_SIZE = 64  # distinct requests per size; clients cycle through them
CHANNELS = 4  # connections per server; the clients share them round-robin
SETTLE_S = 10.0  # longest wait for a server to go idle between settings
CEILING_BATCHES = (8, 16, 32, 64)
CALIBRATION_COMMENTS = 256


@dataclass(frozen=True)
class BenchConfig:
    """What one run measures. `server_env` holds extra VERBATIM_* settings for `verbatim serve`."""

    registry: Path
    backend: str = "onnx"  # the server's default
    threads: int = 0  # inference threads, the same for all three; 0: every core
    device: str = "cpu"  # the torch backend's, for the in-process ceiling and the server (VERBATIM_DEVICE)
    batch_comments: int = 64  # the server's max_batch_comments, one of the ceiling's batch sizes to try
    concurrency: tuple[int, ...] = (1, 8, 32, 128)
    sizes: tuple[int, ...] = (1, 32)
    naive_concurrency: tuple[int, ...] = (1, 32)
    naive_workers: int = 1
    repeats: int = 3
    seconds: float = 3.0  # measured per time-bounded setting, at least
    warmup_s: float = 0.5
    # A window must hold many batches, or whether one more batch lands inside it swings the
    # figure: it is stretched to hold this many comments at the ceiling's rate, up to max_seconds.
    min_comments: int = 400
    max_seconds: float = 12.0
    single_calls: int = 200
    half_load_s: float = 5.0
    ceiling_comments: int = 600
    start_timeout_s: float = 300.0
    server_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def quick(cls, registry: Path, **overrides: object) -> BenchConfig:
        """Seconds rather than minutes, for tests and smoke runs; the report has every key."""
        settings: dict[str, object] = {
            "concurrency": (1, 32), "sizes": (1, 8), "repeats": 2, "seconds": 0.4, "warmup_s": 0.1,
            "min_comments": 0, "single_calls": 20, "half_load_s": 0.5, "ceiling_comments": 64}
        return cls(registry=registry, **(settings | overrides))  # type: ignore[arg-type]


def seed_texts() -> list[str]:
    """Every seed comment, shuffled with a fixed seed so each stretch of requests mixes lengths."""
    texts = [r.text for split in SPLITS for r in seed_split(split, DEFAULT_TAXONOMY)]
    random.Random(0).shuffle(texts)
    return texts


def scrape(port: int) -> dict[str, float]:
    """Sample values of a Prometheus /metrics page by series (name plus labels); {} if unreachable."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        series, _, value = line.rpartition(" ")
        if series and not line.startswith("#"):
            try:
                values[series] = float(value)
            except ValueError:
                pass
    return values


def _mean_batch(before: dict[str, float], after: dict[str, float]) -> float | None:
    count = after.get("verbatim_batch_size_count", 0.0) - before.get("verbatim_batch_size_count", 0.0)
    total = after.get("verbatim_batch_size_sum", 0.0) - before.get("verbatim_batch_size_sum", 0.0)
    return total / count if count > 0 else None


def _served_backend(metrics: dict[str, float]) -> str | None:
    for series in metrics:
        found = re.match(r'verbatim_model_info\{.*backend="([^"]+)"', series)
        if found:
            return found.group(1)
    return None


@contextmanager
def _servers(config: BenchConfig, workdir: Path) -> Iterator[tuple[ServerProcess, ServerProcess, int]]:
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    port, naive_port, metrics_port = free_port(), free_port(), free_port()
    verbatim_env = env | config.server_env | {
        "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port), "VERBATIM_REGISTRY": str(config.registry),
        "VERBATIM_BACKEND": config.backend, "VERBATIM_THREADS": str(config.threads), "VERBATIM_DEVICE": config.device,
        "VERBATIM_METRICS_PORT": str(metrics_port), "VERBATIM_RELOAD_S": "0",  # nothing else competes for CPU
        "VERBATIM_STORE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "VERBATIM_INSECURE_NO_AUTH": "1"}  # its own server, on loopback only
    naive_argv = [sys.executable, "-m", "verbatim.bench.naive_server", "--port", str(naive_port),
                  "--registry", str(config.registry), "--backend", config.backend,
                  "--threads", str(config.threads), "--workers", str(config.naive_workers)]
    servers: list[ServerProcess] = []
    try:  # both start at once; loading the model dominates and overlaps
        servers.append(ServerProcess("verbatim", [sys.executable, "-m", "verbatim.cli", "serve"], verbatim_env,
                                     port, workdir / "verbatim.log"))
        servers.append(ServerProcess("naive", naive_argv, env, naive_port, workdir / "naive.log"))
        for server in servers:
            server.wait_serving(config.start_timeout_s)
        yield servers[0], servers[1], metrics_port
    finally:
        for server in servers:
            server.stop()


def _ceiling_run(predictor: Predictor, texts: list[str], batch: int) -> Sample:
    started, cpu = time.perf_counter(), time.process_time()
    predictor.predict(texts, DEFAULT_ACCOUNT, batch_size=batch)  # encode, length-sorted infer, decide
    seconds = time.perf_counter() - started
    return Sample(comments=len(texts), seconds=seconds, server_cores=(time.process_time() - cpu) / seconds)


def _ceiling_batch(predictor: Predictor, texts: list[str], server_batch: int) -> int:
    """The fastest batch size for the ceiling, so that it is one: too large pads the long
    tail of lengths, too small pays the per-pass overhead."""
    sample = texts[:CALIBRATION_COMMENTS]
    _ceiling_run(predictor, sample[:server_batch], server_batch)  # warm-up
    speeds = {batch: _ceiling_run(predictor, sample, batch).cps for batch in sorted({*CEILING_BATCHES, server_batch})}
    return max(speeds, key=speeds.__getitem__)


async def _run(config: BenchConfig, progress: bool) -> Report:
    champion = Registry(config.registry).champion_path()
    if champion is None:
        raise RuntimeError(f"no champion in {config.registry}; run `verbatim train` first")
    predictor = load_predictor(champion, config.backend, config.threads, device=config.device)
    texts = seed_texts()
    ceiling_texts = texts[:config.ceiling_comments]
    ceiling_batch = _ceiling_batch(predictor, ceiling_texts, config.batch_comments)
    requests = {size: build_requests(texts, size, REQUESTS_PER_SIZE) for size in {*config.sizes, 1}}
    settings = [Setting("verbatim", c, s) for c in config.concurrency for s in config.sizes]
    settings += [Setting("naive", c, s) for c in config.naive_concurrency for s in config.sizes]
    ceiling: list[Sample] = []
    half_load: list[Sample] = []
    half_rates: list[float] = []
    window = warmup = 0.0
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-") as tmp, \
            _servers(config, Path(tmp)) as (verbatim, naive, metrics_port):
        served = _served_backend(scrape(metrics_port))
        if served is not None and served != config.backend:
            raise RuntimeError(f"verbatim serve runs backend {served!r}, not {config.backend!r}")
        processes = {"verbatim": verbatim, "naive": naive}
        channels = {name: [grpc.aio.insecure_channel(p.target, options=[("grpc.use_local_subchannel_pool", 1)])
                           for _ in range(CHANNELS)] for name, p in processes.items()}
        calls = {name: [classify_call(c) for c in chs] for name, chs in channels.items()}
        with tqdm(total=config.repeats * (len(settings) + 2), desc="bench serve", unit="step", file=sys.stderr,
                  disable=not progress) as bar:
            for repeat in range(config.repeats):
                bar.set_postfix_str("ceiling")
                ceiling.append(_ceiling_run(predictor, ceiling_texts, ceiling_batch))
                bar.update()
                if repeat == 0:
                    window = min(max(config.seconds, config.min_comments / ceiling[0].cps), config.max_seconds)
                    warmup = max(config.warmup_s, min(config.batch_comments / ceiling[0].cps, 2.0))
                # Verbatim first on even repeats, naive first on odd: a drift in load hits both alike.
                for st in sorted(settings, key=lambda s: (s.clients, s.size, (s.server == "verbatim") == repeat % 2)):
                    bar.set_postfix_str(f"{st.server} C={st.clients} n={st.size}")
                    server = processes[st.server]
                    before = scrape(metrics_port) if st.server == "verbatim" else {}
                    count_bounded = st.clients == 1 and st.size == 1
                    st.samples.append(await closed_loop(
                        calls[st.server], requests[st.size], st.size, st.clients, server, warmup, window,
                        max_calls=config.single_calls if count_bounded else None))
                    if st.server == "verbatim":
                        st.mean_batch.append(_mean_batch(before, scrape(metrics_port)))
                    await server.settle(SETTLE_S)
                    bar.update()
                peak = max(st.samples[-1].cps for st in settings if st.server == "verbatim" and st.size == 1)
                half_rates.append(max(peak / 2, 1.0))
                bar.set_postfix_str(f"verbatim open loop {half_rates[-1]:.0f}/s")
                half_load.append(await open_loop(calls["verbatim"], requests[1], 1, half_rates[-1],
                                                 config.half_load_s, verbatim, seed=repeat))
                await verbatim.settle(SETTLE_S)
                bar.update()
        for chs in channels.values():
            for channel in chs:
                await channel.close()
        rss = {name: p.peak_rss_mb() for name, p in processes.items()}
    report = build_report(settings, ceiling, half_load, half_rates, rss)
    report |= {"backend": config.backend, "served_backend": served, "model_version": predictor.version,
               "ceiling_batch": ceiling_batch, "repeats": config.repeats, "window_s": window, "warmup_s": warmup,
               "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}}
    return report


def run(config: BenchConfig, progress: bool = True) -> Report:
    """Run the whole benchmark and return its report (see bench_report.format_table)."""
    return asyncio.run(_run(config, progress))

