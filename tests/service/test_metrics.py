"""Metrics: a real server with the tiny model, scraped over HTTP while and after it works.

Counters are checked against the work the test did (requests sent, comments, the tags and
sentiments the responses carried) and against the batcher's own statistics.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from verbatim.models.artifact import Artifact
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.service.batcher import Batcher, WorkItem
from verbatim.service.metrics import Metrics, capped_buckets
from verbatim.service.server import ServerStartError, VerbatimServer
from verbatim.store.corrections import Action, Correction, Outcome, SubmitResult
from tests.service.harness import Harness, RecordingPredictor, classify, comment, config, rpc_error, serving, wait_until
from tests.service.scrape import label_values, parse, scrape_text, value
from verbatim.v1 import verbatim_pb2 as pb

SECRET = "zqxsecret"  # in every text, id and account sent: must never reach the exposition
TEXTS = ["The Slack integration keeps crashing", "Support answered within minutes, great team",
         "Way too expensive for what it does", "Pages take forever to load", "Please add a dark mode",
         "The weekly report is always late", "CSV export drops half the columns"]
SENTIMENTS = {pb.SENTIMENT_LABEL_NEGATIVE: "negative", pb.SENTIMENT_LABEL_NEUTRAL: "neutral",
              pb.SENTIMENT_LABEL_POSITIVE: "positive"}


def request(i: int, comments: int, account: str = "") -> pb.ClassifyCommentsRequest:
    return classify(*(comment(f"{SECRET}-{i}-{j}", f"{TEXTS[(i + j) % len(TEXTS)]} {SECRET}{i}")
                      for j in range(comments)), account=account)


@pytest.fixture()
def metered(tiny_predictor: Predictor, tiny_registry: Registry) -> Harness:
    # Small batches, so the load runs many of them.
    with serving(tiny_predictor, registry=tiny_registry.root, max_comments_per_request=5, max_text_chars=120,
                 max_batch_comments=4) as harness:
        yield harness


def test_counters_match_the_work_done_while_scraped_under_load(metered: Harness, tiny_predictor: Predictor) -> None:
    port = metered.server.metrics_port
    assert port
    n, m = 24, 3
    accounts = ["" if i % 3 else "acme" for i in range(n)]  # a third for acme, whose tags are not counted
    scrapes: list[str] = []
    done = threading.Event()

    def scrape_during_load() -> None:
        while not done.is_set():
            scrapes.append(scrape_text(port))
            time.sleep(0.005)

    scraper = threading.Thread(target=scrape_during_load)
    scraper.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda i: metered.stub.ClassifyComments(request(i, m, accounts[i]), timeout=30),
                                      range(n)))
    finally:
        done.set()
        scraper.join(10)
    invalid = [classify(comment("a", f"{SECRET} " * 40)),  # text over the limit
               request(100, 6),  # too many comments
               request(101, 1, account=f"{SECRET}-account"),  # unknown account
               classify(comment("dup", "one"), comment("dup", f"two {SECRET}"))]  # duplicate id
    for bad in invalid:
        assert rpc_error(lambda b=bad: metered.stub.ClassifyComments(b, timeout=10)).code() == \
            grpc.StatusCode.INVALID_ARGUMENT
    metered.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
    refused = ("verbatim_requests_total", frozenset({"rpc": "ClassifyComments", "code": "INVALID_ARGUMENT"}.items()))
    wait_until(lambda: parse(scrape_text(port)).get(refused) == len(invalid))  # an abort is counted just after

    text = scrape_text(port)
    samples = parse(text)
    stats = metered.server.batcher.stats
    comments = n * m
    assert value(samples, "verbatim_comments_classified_total") == comments
    assert value(samples, "verbatim_requests_total", rpc="ClassifyComments", code="OK") == n
    assert value(samples, "verbatim_requests_total", rpc="ClassifyComments", code="INVALID_ARGUMENT") == len(invalid)
    assert value(samples, "verbatim_requests_total", rpc="GetModelInfo", code="OK") == 1
    assert value(samples, "verbatim_request_latency_seconds_count", rpc="ClassifyComments") == n + len(invalid)
    assert stats.comments == comments and stats.batches >= comments / 4
    assert value(samples, "verbatim_batch_size_count") == stats.batches
    assert value(samples, "verbatim_batch_size_sum") == comments
    assert value(samples, "verbatim_batch_size_bucket", le="4.0") == stats.batches  # capped at 4
    assert value(samples, "verbatim_batch_tokens_count") == stats.batches
    assert value(samples, "verbatim_batch_tokens_sum") == stats.padded_tokens
    assert value(samples, "verbatim_inference_seconds_count") == stats.batches
    assert 0 < value(samples, "verbatim_inference_seconds_sum") <= stats.inference_seconds + 1e-6
    assert value(samples, "verbatim_queue_wait_seconds_count") == comments
    assert value(samples, "verbatim_queue_depth") == 0
    assert value(samples, "verbatim_queue_capacity") == metered.server.config.queue_capacity

    # What the responses carried, counted independently.
    tags = Counter(t.name for r, a in zip(responses, accounts) if a == "" for c in r.comments for t in c.tags)
    sentiments = Counter(SENTIMENTS[c.sentiment.label] for r in responses for c in r.comments)
    reviews = sum(c.needs_review for r in responses for c in r.comments)
    assert tags, "the default account's responses carried no tags to count"
    for tag in DEFAULT_TAXONOMY.names:
        assert value(samples, "verbatim_tag_predictions_total", tag=tag) == tags[tag], tag
    assert label_values(samples, "verbatim_tag_predictions_total", "tag") == set(DEFAULT_TAXONOMY.names)
    for label in SENTIMENTS.values():
        assert value(samples, "verbatim_sentiment_total", label=label) == sentiments[label]
    assert value(samples, "verbatim_needs_review_total") == reviews
    assert value(samples, "verbatim_model_info", version=tiny_predictor.version, backend="torch") == 1

    # Scrapes taken during the load never went backwards.
    seen = [value(parse(s), "verbatim_comments_classified_total") for s in scrapes]
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] <= comments
    assert SECRET not in text and all(SECRET not in s for s in scrapes)
    assert "acme" not in text and "Reporting" not in text  # no other account's tags


def test_deadline_exceeded_and_cancelled_are_counted(tiny_predictor: Predictor) -> None:
    slow = RecordingPredictor(tiny_predictor, delay=0.4)
    with serving(slow) as h:
        error = rpc_error(lambda: h.stub.ClassifyComments(classify(comment("a", "slow one")), timeout=0.1))
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        deadline = time.monotonic() + 5
        while True:
            samples = parse(scrape_text(h.server.metrics_port))
            key = ("verbatim_requests_total", frozenset({"rpc": "ClassifyComments", "code": "DEADLINE_EXCEEDED"}.items()))
            if samples.get(key) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert samples.get(key) == 1, {k: v for k, v in samples.items() if k[0] == "verbatim_requests_total"}
        assert value(samples, "verbatim_comments_classified_total") == 0


def test_model_info_follows_every_swap(tiny_predictor: Predictor) -> None:
    artifact = tiny_predictor.artifact
    other = Predictor(Artifact(dataclasses.replace(artifact.meta, version="v-next"), artifact.net, artifact.tokenizer))
    with serving(None) as h:
        port = h.server.metrics_port
        assert not [k for k in parse(scrape_text(port)) if k[0] == "verbatim_model_info"]  # nothing loaded
        h.server.slot.swap(tiny_predictor)
        assert value(parse(scrape_text(port)), "verbatim_model_info", version=tiny_predictor.version,
                     backend="torch") == 1
        h.server.slot.swap(other)
        samples = parse(scrape_text(port))
        assert label_values(samples, "verbatim_model_info", "version") == {"v-next"}


def test_champion_f1_comes_from_the_registry(metered: Harness, tiny_registry: Registry) -> None:
    path = tiny_registry.champion_path()
    assert path is not None
    expected = json.loads((path / "artifact.json").read_text())["evaluation"]["seed_test"]["themes"]["micro_f1"]
    created = datetime.fromisoformat(json.loads((path / "artifact.json").read_text())["created_at"]).timestamp()
    samples = parse(scrape_text(metered.server.metrics_port))
    assert value(samples, "verbatim_champion_micro_f1") == pytest.approx(expected)
    assert value(samples, "verbatim_champion_created_timestamp_seconds") == created
    assert value(samples, "verbatim_retrain_runs_total", outcome="promoted") == 0  # no reports in it


def test_retrain_reports_become_runs_duration_and_last_success(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()

    def report(name: str, decision: str, durations: dict[str, float], mtime: float) -> None:
        path = reports / f"{name}.json"
        path.write_text(json.dumps({"decision": decision, "durations_s": durations, "reasons": []}))
        os.utime(path, (mtime, mtime))

    report("v1", "promoted", {"train": 10.0, "total": 12.5}, 1_000.0)
    report("v2", "rejected", {"train": 7.0, "evaluate": 1.0}, 2_000.0)  # no total: the stages add up
    report("v3", "failed", {"total": 3.0}, 3_000.0)
    (reports / "v4.json").write_text("{not json")
    (reports / ".v5.json.123.tmp").write_text("{}")  # a writer's leftover
    (reports / "v1.md").write_text("# a summary, not a report")
    metrics = Metrics(model_registry=tmp_path)
    samples = parse(metrics.exposition().decode())
    assert {o: value(samples, "verbatim_retrain_runs_total", outcome=o)
            for o in ("promoted", "rejected", "nothing-new", "failed", "other")} == \
        {"promoted": 1, "rejected": 1, "nothing-new": 0, "failed": 1, "other": 0}
    assert value(samples, "verbatim_retrain_duration_seconds") == 3.0  # the latest run's
    assert value(samples, "verbatim_retrain_last_success_timestamp_seconds") == 2_000.0
    assert ("verbatim_champion_micro_f1", frozenset()) not in samples  # no champion yet

    report("v6", "promoted", {"total": 4.0}, 4_000.0)
    (reports / "v1.json").unlink()
    registry = Registry(tmp_path)
    (registry.versions_dir / "v6").mkdir(parents=True)
    (registry.versions_dir / "v6" / "artifact.json").write_text(
        json.dumps({"created_at": "2026-01-02T03:04:05+00:00",
                    "evaluation": {"seed_test": {"themes": {"micro_f1": 0.8125}}}}))
    registry.promote("v6")
    samples = parse(metrics.exposition().decode())
    assert value(samples, "verbatim_retrain_runs_total", outcome="promoted") == 1
    assert value(samples, "verbatim_retrain_duration_seconds") == 4.0
    assert value(samples, "verbatim_retrain_last_success_timestamp_seconds") == 4_000.0
    assert value(samples, "verbatim_champion_micro_f1") == 0.8125
    assert value(samples, "verbatim_champion_created_timestamp_seconds") == 1_767_323_045.0  # 2026-01-02T03:04:05Z


def test_no_registry_means_zero_runs_and_no_figures(tmp_path: Path) -> None:
    samples = parse(Metrics(model_registry=tmp_path / "missing").exposition().decode())
    assert value(samples, "verbatim_retrain_runs_total", outcome="promoted") == 0
    assert not any(name in {"verbatim_retrain_duration_seconds", "verbatim_champion_micro_f1",
                            "verbatim_champion_created_timestamp_seconds", "verbatim_queue_capacity",
                            "verbatim_retrain_last_success_timestamp_seconds"} for name, _ in samples)


def test_metrics_port_taken_fails_start_and_stop_frees_it(metered: Harness, tiny_predictor: Predictor) -> None:
    taken = metered.server.metrics_port
    assert taken
    with serving(tiny_predictor) as other:
        clash = VerbatimServer(config(metrics_port=taken))
        with pytest.raises(ServerStartError, match="VERBATIM_METRICS_PORT"):
            other.call(clash.start())
        port = other.server.metrics_port
        scrape_text(port)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_corrections_count_newly_stored_ones_by_kind() -> None:
    def correction(cid: str, tag: str, action: Action | None, sentiment: str | None = None) -> Correction:
        return Correction(cid, "default", "c1", f"{SECRET} text", tag, action, False, sentiment, "ann",
                          datetime.now(timezone.utc))

    batch = [correction("1", "Bug", Action.ADD), correction("2", "Price", Action.REMOVE),
             correction("3", "", None, "negative"), correction("4", "Bug", Action.ADD)]
    metrics = Metrics()
    metrics.observe_corrections(batch, SubmitResult((Outcome.STORED,) * 3 + (Outcome.DUPLICATE,)))
    metrics.observe_corrections(batch[:1], SubmitResult((Outcome.DUPLICATE,)))  # a retry changes nothing
    text = metrics.exposition().decode()
    samples = parse(text)
    assert {k: value(samples, "verbatim_corrections_total", action=k) for k in ("add", "remove", "sentiment")} == \
        {"add": 1, "remove": 1, "sentiment": 1}
    assert SECRET not in text


def test_buckets_fit_the_configured_caps() -> None:
    assert capped_buckets(64) == (1, 2, 4, 8, 16, 32, 64)
    assert capped_buckets(100) == (1, 2, 4, 8, 16, 32, 64, 100)
    assert capped_buckets(8192, start=16)[0] == 16 and capped_buckets(8192, start=16)[-1] == 8192
    text = Metrics(max_batch_comments=100).exposition().decode()
    assert 'verbatim_batch_size_bucket{le="100.0"}' in text


def test_a_failing_observer_never_fails_a_batch(tiny_predictor: Predictor) -> None:
    calls: list[tuple[int, int, int, float]] = []

    def observer(size: int, padded: int, waits: object, inference_s: float) -> None:
        calls.append((size, padded, len(waits), inference_s))  # type: ignore[arg-type]
        raise RuntimeError("metrics backend down")

    async def classify_three() -> list[object]:
        batcher = Batcher(8, 8192, 0.001, 64, observer=observer)
        items = [WorkItem(t, "default", ids, tiny_predictor)
                 for t, ids in zip(TEXTS[:3], tiny_predictor.encode(TEXTS[:3]))]
        try:
            return [await f for f in batcher.submit(items)]
        finally:
            await batcher.close()

    assert len(asyncio.run(asyncio.wait_for(classify_three(), timeout=20))) == 3
    assert calls and calls[0][0] == 3 and calls[0][2] == 3 and calls[0][3] > 0
