"""What reading an account from the original encoder costs in served throughput.

`verbatim serve` runs a registry whose champion reads ACCOUNT's tags from the original
all-MiniLM-L6-v2 (models.original_encoder): a second forward pass for that account's
comments. Closed-loop clients send the same seed comments, in the same requests, as ACCOUNT
and as the default account, alternating which goes first in each repeat. The result is each
account's served comments/s (median over repeats) and their ratio, taken side by side.

    python -m verbatim.bench.original_cost --registry R --account A [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

import grpc

from verbatim.bench.load import build_requests, classify_call, closed_loop, loopback_server
from verbatim.bench.serve import seed_texts
from verbatim.models.artifact import Artifact
from verbatim.models.registry import Registry, registry_path
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.store import Store

SETTLE_S = 10.0


async def _measure(target: str, server, account: str, clients: int, size: int, seconds: float, warmup: float,
                   repeats: int) -> dict:
    texts = seed_texts()
    requests = {a: build_requests(texts, size, 64, a) for a in (account, DEFAULT_ACCOUNT)}
    channel = grpc.aio.insecure_channel(target)
    call = classify_call(channel)
    answer = pb.ClassifyCommentsResponse.FromString(await call(requests[account][0]))
    if len(answer.comments) != size:
        raise RuntimeError(f"account {account!r} answered {len(answer.comments)} of {size} comments")
    cps: dict[str, list[float]] = {account: [], DEFAULT_ACCOUNT: []}
    errors = 0
    for repeat in range(repeats):
        for name in (account, DEFAULT_ACCOUNT) if repeat % 2 == 0 else (DEFAULT_ACCOUNT, account):
            sample = await closed_loop([call], requests[name], size, clients, server, warmup, seconds)
            cps[name].append(round(sample.cps, 1))
            errors += sum(sample.errors.values())
            await server.settle(SETTLE_S)
    await channel.close()
    ratios = [round(a / d, 3) for a, d in zip(cps[account], cps[DEFAULT_ACCOUNT], strict=True)]
    return {"account": account, "clients": clients, "comments_per_request": size, "window_s": seconds,
            "comments_per_s": cps, "median_cps": {k: statistics.median(v) for k, v in cps.items()},
            "ratio_per_repeat": ratios, "median_ratio": statistics.median(ratios), "errors": errors}


def run(registry: Path, account: str, clients: int = 8, size: int = 32, seconds: float = 8.0, warmup: float = 2.0,
        repeats: int = 3) -> dict:
    champion = Registry(registry).champion_path()
    if champion is None:
        raise RuntimeError(f"no champion in {registry}; run `verbatim train` first")
    artifact = Artifact.load(champion)
    if account not in artifact.meta.original_accounts:
        raise RuntimeError(f"champion {artifact.meta.version} reads {artifact.meta.original_accounts or 'no account'} "
                           f"from the original encoder, not {account!r}")
    with tempfile.TemporaryDirectory(prefix="verbatim-bench-original-") as tmp:
        store_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        with Store(store_url) as store:  # the account's live taxonomy, as a server that serves it has
            store.put_tags(account, list(artifact.meta.taxonomies[account].tags))
        server, _ = loopback_server(registry, Path(tmp), store_url)
        try:
            server.wait_serving(600)
            report = asyncio.run(_measure(server.target, server, account, clients, size, seconds, warmup, repeats))
        finally:
            server.stop()
    return report | {"model_version": artifact.meta.version}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verbatim.bench.original_cost", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", help="registry whose champion reads --account from the original encoder")
    parser.add_argument("--account", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--size", type=int, default=32, help="comments per request")
    parser.add_argument("--seconds", type=float, default=8.0, help="measured window per setting")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(registry_path(args.registry), args.account, args.clients, args.size, args.seconds,
                 repeats=args.repeats)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        median = report["median_cps"]
        print(f"{args.account}: {median[args.account]:.0f} comments/s; {DEFAULT_ACCOUNT}: "
              f"{median[DEFAULT_ACCOUNT]:.0f} comments/s; ratio {report['median_ratio']:.2f} "
              f"(per repeat {report['ratio_per_repeat']}), {report['errors']} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
