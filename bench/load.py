"""Load generation for `verbatim bench serve`: server subprocesses and grpc.aio load loops.

The client sends pre-serialised requests and does not parse responses (a raw-bytes
method), because on a 2-core machine every client cycle is taken from the server; what
the client still costs is measured (`client_cores`) and reported beside the result.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from verbatim.v1 import verbatim_pb2 as pb

CLASSIFY_METHOD = "/verbatim.v1.Verbatim/ClassifyComments"
RPC_TIMEOUT_S = 30.0
# After RESOURCE_EXHAUSTED: exponential backoff with full jitter, as a well-behaved client
# (and gRPC's retry policy) would; hammering an overloaded server measures only the hammering.
BACKOFF_S = (0.05, 1.0)
_TICKS = os.sysconf("SC_CLK_TCK")

Call = Callable[[bytes], Awaitable[bytes]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_requests(texts: Sequence[str], size: int, count: int, account: str = "") -> list[bytes]:
    """`count` serialised ClassifyComments requests of `size` comments, cycling through `texts`."""
    requests = []
    for r in range(count):
        comments = [pb.Comment(id=str(i), text=texts[(r * size + i) % len(texts)]) for i in range(size)]
        requests.append(pb.ClassifyCommentsRequest(account_id=account, comments=comments).SerializeToString())
    return requests


class ServerProcess:
    """A server run as a child process, with its log in a file and its CPU and memory read from /proc."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.name, self.port, self.log = name, port, log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait_serving(self, timeout: float) -> None:
        """Block until grpc.health.v1 says SERVING; RuntimeError with the log tail otherwise."""
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.target) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} server exited with {self.process.returncode}:\n{self.tail()}")
                try:
                    status = health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} server not serving after {timeout:.0f}s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User plus system CPU time of every thread so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime

    def rss_mb(self) -> float:
        """VmRSS: the resident set now."""
        return self._status_mb("VmRSS:")

    def peak_rss_mb(self) -> float:
        """VmHWM: the resident set's high-water mark since start."""
        return self._status_mb("VmHWM:")

    def _status_mb(self, field: str) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} in /proc status")

    async def settle(self, timeout: float, idle_cores: float = 0.1, window: float = 0.1) -> None:
        """Wait until the server is idle (work cancelled at the end of a setting has drained)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = self.cpu_seconds()
            await asyncio.sleep(window)
            if (self.cpu_seconds() - before) / window < idle_cores:
                return

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def loopback_server(registry: Path, workdir: Path, store_url: str | None = None) -> tuple[ServerProcess, str]:
    """`verbatim serve` of `registry`'s champion on a free loopback port, with `store_url` or else a
    SQLite store in `workdir`, no reload and no auth (its own server, on loopback only); and that
    store's URL. Not yet serving."""
    port, store_url = free_port(), store_url or f"sqlite:///{workdir / 'bench.db'}"
    env = os.environ | {"HF_HUB_OFFLINE": "1", "VERBATIM_HOST": "127.0.0.1", "VERBATIM_PORT": str(port),
                        "VERBATIM_REGISTRY": str(registry), "VERBATIM_METRICS_PORT": "0", "VERBATIM_RELOAD_S": "0",
                        "VERBATIM_STORE_URL": store_url, "VERBATIM_INSECURE_NO_AUTH": "1"}
    server = ServerProcess("verbatim", [sys.executable, "-m", "verbatim.cli", "serve"], env, port,
                           workdir / "serve.log")
    return server, store_url


@dataclass
class Sample:
    """One measured run of one setting."""

    comments: int = 0  # answered inside the window
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, requests inside the window
    errors: Counter[str] = field(default_factory=Counter)
    server_cores: float = 0.0  # mean cores the server used during the window
    client_cores: float = 0.0  # mean cores this process used during the window

    @property
    def cps(self) -> float:
        return self.comments / self.seconds if self.seconds > 0 else 0.0

    @property
    def cps_per_cpu(self) -> float | None:
        """Comments per CPU-second of the server: less sensitive to other load on the machine
        than comments/s, though not immune (spinning inference threads count as busy)."""
        return self.cps / self.server_cores if self.server_cores > 0 else None

    def percentile_ms(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q) * 1000) if self.latencies else None


class _Meter:
    """CPU use of the server and of this process between start() and stop()."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    def start(self) -> None:
        self.t, self.server_cpu, self.own_cpu = time.perf_counter(), self.server.cpu_seconds(), time.process_time()

    def stop(self, sample: Sample) -> None:
        elapsed = max(time.perf_counter() - self.t, 1e-9)
        sample.server_cores = (self.server.cpu_seconds() - self.server_cpu) / elapsed
        sample.client_cores = (time.process_time() - self.own_cpu) / elapsed


def classify_call(channel: grpc.aio.Channel) -> Call:
    method = channel.unary_unary(CLASSIFY_METHOD)  # no serialisers: bytes in, bytes out

    async def call(request: bytes) -> bytes:
        return await method(request, timeout=RPC_TIMEOUT_S)
    return call


async def closed_loop(calls: Sequence[Call], requests: Sequence[bytes], size: int, clients: int,
                      server: ServerProcess, warmup_s: float, seconds: float, max_calls: int | None = None) -> Sample:
    """`clients` callers, each sending its next request as soon as the last is answered.

    Time-bounded: counts the answers that arrive in [warmup, warmup + seconds], whenever
    their request was sent, then cancels what is still in flight (so a deep queue does not
    make the run drag on). Latencies are those of the counted answers, so at saturation
    they are censored at about warmup + seconds. With `max_calls`, count-bounded instead:
    exactly that many calls sent after the warm-up, all awaited.
    """
    sample, meter, rng = Sample(), _Meter(server), random.Random(clients * 1000 + size)
    begin = time.perf_counter()
    t0 = begin + warmup_s
    t1 = t0 + seconds if max_calls is None else float("inf")
    issued = 0
    first_start, last_end = float("inf"), 0.0

    def in_window(sent_after_warmup: bool, ended: float) -> bool:
        return sent_after_warmup if max_calls is not None else t0 <= ended <= t1

    async def client(i: int) -> None:
        nonlocal issued, first_start, last_end
        k, backoff = i, BACKOFF_S[0]
        while True:
            started = time.perf_counter()
            if started >= t1:
                return
            counted = started >= t0
            if max_calls is not None and counted:
                if issued >= max_calls:
                    return
                issued += 1
            request = requests[k % len(requests)]
            k += clients
            try:
                await calls[i % len(calls)](request)
            except grpc.aio.AioRpcError as exc:
                if in_window(counted, time.perf_counter()):
                    sample.errors[exc.code().name] += 1
                if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    await asyncio.sleep(rng.uniform(0, backoff))
                    backoff = min(backoff * 2, BACKOFF_S[1])
                continue
            backoff = BACKOFF_S[0]
            ended = time.perf_counter()
            if in_window(counted, ended):
                sample.latencies.append(ended - started)
                sample.comments += size
                first_start, last_end = min(first_start, started), max(last_end, ended)

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
    meter.start()
    if max_calls is None:
        await asyncio.sleep(max(0.0, t1 - time.perf_counter()))
        for task in tasks:
            task.cancel()  # cancels the RPC too; the servers skip work for callers that are gone
    await asyncio.gather(*tasks, return_exceptions=True)
    meter.stop(sample)
    sample.seconds = seconds if max_calls is None else max(last_end - first_start, 1e-9)
    return sample


async def open_loop(calls: Sequence[Call], requests: Sequence[bytes], size: int, rate: float, seconds: float,
                    server: ServerProcess, seed: int = 0) -> Sample:
    """Poisson arrivals at `rate` requests/s for `seconds`, whatever the answers' pace.

    Latency runs from the scheduled send time, so a stalled client loop cannot hide a slow
    server (no coordinated omission).
    """
    sample, meter, rng = Sample(), _Meter(server), random.Random(seed)
    arrivals, at = [], rng.expovariate(rate)
    while at < seconds:
        arrivals.append(at)
        at += rng.expovariate(rate)

    async def one(i: int, due: float) -> None:
        try:
            await calls[i % len(calls)](requests[i % len(requests)])
        except grpc.aio.AioRpcError as exc:
            sample.errors[exc.code().name] += 1
            return
        sample.latencies.append(time.perf_counter() - due)
        sample.comments += size

    meter.start()
    begin = time.perf_counter()
    tasks = []
    for i, offset in enumerate(arrivals):
        await asyncio.sleep(max(0.0, begin + offset - time.perf_counter()))
        tasks.append(asyncio.create_task(one(i, begin + offset)))
    await asyncio.gather(*tasks)
    meter.stop(sample)
    sample.seconds = max(time.perf_counter() - begin, 1e-9)
    return sample
