"""Prometheus metrics for one server: every verbatim_* series of DESIGN §6, on their own port.

Each Metrics owns its own CollectorRegistry rather than the process-wide default one, so
tests and several servers in one process never collide. Callers hand it plain numbers and
domain objects through small typed methods; nothing else in the service imports
prometheus_client.

No comment text ever becomes a metric or a label. Label values come from closed sets: the
RPC names the server registered, gRPC status codes, the shipped default taxonomy, the
sentiment labels and the correction kinds. Tags of other accounts, and tags an operator
added to the default account, are not counted by tag: their names are customer-chosen and
unbounded.

The retraining series are read from the model registry at scrape time; see
service/retrain_metrics.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server
from prometheus_client.core import InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY
from verbatim.models.types import SENTIMENT_LABELS, Prediction
from verbatim.service.retrain_metrics import RetrainCollector
from verbatim.store.corrections import Action, Correction, Outcome, SubmitResult

# Request latency covers queueing plus inference of up to a few hundred comments.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Queue wait is normally under max_delay_ms (5 ms by default); the tail shows overload.
QUEUE_WAIT_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# One forward pass: about a millisecond for a tiny batch, seconds for a full one on CPU.
INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CORRECTION_KINDS = ("add", "remove", "sentiment")  # sentiment: a relabel without a tag
# Why a call was refused: no key, a garbled header, an unknown key (UNAUTHENTICATED); another
# account's data, a write with a read-only key (PERMISSION_DENIED). See service/auth.py.
AUTH_FAILURE_REASONS = ("missing", "malformed", "unknown", "account", "read_only")


def capped_buckets(cap: int, start: int = 1) -> tuple[float, ...]:
    """Powers of two from `start` up to `cap`, and `cap` itself: a histogram that fits a configured limit."""
    bounds: list[float] = []
    bound = start
    while bound < cap:
        bounds.append(float(bound))
        bound *= 2
    bounds.append(float(cap))
    return tuple(bounds)


class Metrics:
    """Every verbatim_* metric of one server, in a registry of its own.

    `max_batch_comments` and `max_batch_tokens` size the batch histograms to the batcher's
    caps; `queue_capacity` is exported as is, so alerts can compare the depth with it.
    `model_registry`, when given, is the model registry whose champion and retrain reports
    the retraining series are read from at each scrape.
    """

    def __init__(self, max_batch_comments: int = 64, max_batch_tokens: int = 8192,
                 model_registry: Path | None = None, queue_capacity: int | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("verbatim_requests", "Finished unary RPCs, by RPC and gRPC status code.",
                                ["rpc", "code"], registry=r)
        self.latency = Histogram("verbatim_request_latency_seconds", "Unary RPC latency in the server.",
                                 ["rpc"], buckets=LATENCY_BUCKETS, registry=r)
        self.comments = Counter("verbatim_comments_classified", "Comments classified and returned to a caller.",
                                registry=r)
        self.queue_wait = Histogram("verbatim_queue_wait_seconds",
                                    "Time a comment waited in the batcher's queue before its batch ran.",
                                    buckets=QUEUE_WAIT_BUCKETS, registry=r)
        self.inference = Histogram("verbatim_inference_seconds", "Time of one batch's forward pass and decisions.",
                                   buckets=INFERENCE_BUCKETS, registry=r)
        self.batch_size = Histogram("verbatim_batch_size", "Comments per computed batch.",
                                    buckets=capped_buckets(max_batch_comments), registry=r)
        self.batch_tokens = Histogram("verbatim_batch_tokens",
                                      "Padded tokens computed per batch, summed over its forward passes.",
                                      buckets=capped_buckets(max_batch_tokens, start=16), registry=r)
        self.queue_depth = Gauge("verbatim_queue_depth", "Comments waiting in the batcher's queue.", registry=r)
        if queue_capacity is not None:  # beyond it, ClassifyComments answers RESOURCE_EXHAUSTED
            Gauge("verbatim_queue_capacity", "Comments the batcher's queue holds at most.",
                  registry=r).set(queue_capacity)
        self.model = _ModelInfo()
        r.register(self.model)
        self.corrections = Counter("verbatim_corrections",
                                   "Corrections newly stored, by kind (duplicates of stored ones not counted).",
                                   ["action"], registry=r)
        self.tag_predictions = Counter("verbatim_tag_predictions",
                                       "Tags returned for the default account, by tag of the shipped taxonomy.",
                                       ["tag"], registry=r)
        self.sentiment = Counter("verbatim_sentiment", "Classified comments by sentiment label.", ["label"],
                                 registry=r)
        self.needs_review = Counter("verbatim_needs_review", "Classified comments flagged for human review.",
                                    registry=r)
        self.model_load_failures = Counter("verbatim_model_load_failures",
                                           "Champions refused because their artifact did not load or run; "
                                           "the previous model kept serving.", registry=r)
        self.auth_failures = Counter("verbatim_auth_failures", "Calls refused by authentication or authorisation, "
                                     "by reason.", ["reason"], registry=r)
        self._default_tags = frozenset(DEFAULT_TAXONOMY.names)
        # Series exist at 0 from the start, so rate() and absent() work before the first event.
        for tag in sorted(self._default_tags):
            self.tag_predictions.labels(tag=tag)
        for label in SENTIMENT_LABELS:
            self.sentiment.labels(label=label)
        for kind in CORRECTION_KINDS:
            self.corrections.labels(action=kind)
        for reason in AUTH_FAILURE_REASONS:
            self.auth_failures.labels(reason=reason)
        if model_registry is not None:
            r.register(RetrainCollector(model_registry))
        self._http: WSGIServer | None = None
        self._http_thread: threading.Thread | None = None

    def observe_request(self, rpc: str, code: str, seconds: float) -> None:
        """One finished RPC: its method name, status code name (e.g. "OK") and latency."""
        self.requests.labels(rpc=rpc, code=code).inc()
        self.latency.labels(rpc=rpc).observe(seconds)

    def observe_batch(self, size: int, padded_tokens: int, queue_waits: Sequence[float], inference_s: float) -> None:
        """One computed batch (the batcher's BatchObserver)."""
        self.batch_size.observe(size)
        self.batch_tokens.observe(padded_tokens)
        self.inference.observe(inference_s)
        for wait in queue_waits:
            self.queue_wait.observe(wait)

    def observe_predictions(self, account: str, predictions: Sequence[Prediction]) -> None:
        """Predictions returned to a caller, after the request's options were applied."""
        self.comments.inc(len(predictions))
        reviews = 0
        for prediction in predictions:
            self.sentiment.labels(label=prediction.sentiment.label).inc()
            reviews += prediction.needs_review
            if account == DEFAULT_ACCOUNT:
                for tag in prediction.tags:
                    if tag.name in self._default_tags:
                        self.tag_predictions.labels(tag=tag.name).inc()
        if reviews:
            self.needs_review.inc(reviews)

    def observe_corrections(self, corrections: Sequence[Correction], result: SubmitResult) -> None:
        """A successful SubmitCorrections: counts the corrections it newly stored, by kind."""
        for correction, outcome in zip(corrections, result.outcomes):  # strict=False: metrics never raise
            if outcome is Outcome.STORED:
                self.corrections.labels(action=correction_kind(correction)).inc()

    def observe_model_load_failure(self) -> None:
        """A new champion was refused: its artifact did not load or could not run."""
        self.model_load_failures.inc()

    def observe_auth_failure(self, reason: str) -> None:
        """A refused call; `reason` is one of AUTH_FAILURE_REASONS (anything else is not counted, to keep
        the label bounded)."""
        if reason in AUTH_FAILURE_REASONS:
            self.auth_failures.labels(reason=reason).inc()

    def set_model(self, version: str, backend: str) -> None:
        """The model now serving new requests (verbatim_model_info has no sample before the first)."""
        self.model.labels = {"version": version, "backend": backend}

    def track_queue_depth(self, depth: Callable[[], int]) -> None:
        """Read the queue depth from `depth()` at each scrape."""
        self.queue_depth.set_function(lambda: float(depth()))

    def exposition(self) -> bytes:
        """The text a scrape of /metrics returns."""
        return generate_latest(self.registry)

    def start_http(self, host: str, port: int) -> int:
        """Serve /metrics on host:port in a daemon thread; returns the bound port (port 0: a free one).

        Raises OSError when the address cannot be bound.
        """
        if self._http is not None:
            raise RuntimeError("the metrics endpoint is already running")
        self._http, self._http_thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._http.server_port)

    def stop_http(self) -> None:
        """Stop serving /metrics and free the port; a no-op when not running."""
        if self._http is None:
            return
        self._http.shutdown()
        self._http.server_close()
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
        self._http = self._http_thread = None


class _ModelInfo(Collector):
    """verbatim_model_info, absent until a model is set (an Info would report an empty one)."""

    def __init__(self) -> None:
        self.labels: dict[str, str] | None = None  # replaced whole, so a scrape sees old or new

    def collect(self) -> Iterator[Metric]:
        family = InfoMetricFamily("verbatim_model", "The model serving new requests.")
        if self.labels is not None:
            family.add_metric([], self.labels)
        yield family


def correction_kind(correction: Correction) -> str:
    """A value of CORRECTION_KINDS."""
    if correction.action is Action.ADD:
        return "add"
    if correction.action is Action.REMOVE:
        return "remove"
    return "sentiment"

