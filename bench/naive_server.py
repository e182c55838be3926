"""The naive serving baseline for `verbatim bench serve`: one unbatched forward per request.

A plain synchronous gRPC server, the way the grpc examples write one: a thread pool, and
a ClassifyComments that runs `predictor.predict` on the request's own comments. Same
registry champion, backend and thread count as `verbatim serve`, so the benchmark's
"verbatim vs naive" ratio measures the micro-batcher and nothing else. It answers the
same response message, so both servers pay the same serialisation.

    python -m verbatim.bench.naive_server --port N --registry DIR --backend torch

It speaks only the generated stubs and `models`: training never imports `service`.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from verbatim.models.backend_names import BACKENDS
from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor, UnknownAccountError
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import DEFAULT_ACCOUNT
from verbatim.models.types import Prediction, TagSource
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)

_SENTIMENTS = {"negative": pb.SENTIMENT_LABEL_NEGATIVE, "neutral": pb.SENTIMENT_LABEL_NEUTRAL,
               "positive": pb.SENTIMENT_LABEL_POSITIVE}
_SOURCES = {TagSource.MODEL: pb.TAG_SOURCE_MODEL, TagSource.RULE: pb.TAG_SOURCE_RULE,
            TagSource.BOTH: pb.TAG_SOURCE_BOTH}


def _to_proto(comment_id: str, p: Prediction) -> pb.ClassifiedComment:
    probs = p.sentiment.probabilities
    return pb.ClassifiedComment(
        id=comment_id, needs_review=p.needs_review,
        tags=[pb.TagPrediction(name=t.name, parent=t.parent, confidence=t.confidence, source=_SOURCES[t.source],
                               evidence=t.evidence) for t in p.tags],
        sentiment=pb.Sentiment(label=_SENTIMENTS[p.sentiment.label], score=p.sentiment.score,
                               probabilities=pb.SentimentProbabilities(**probs)))


class NaiveServicer(pb_grpc.VerbatimServicer):
    """ClassifyComments only; every other RPC answers UNIMPLEMENTED (the generated default)."""

    def __init__(self, predictor: Predictor) -> None:
        self._predictor = predictor

    def ClassifyComments(self, request: pb.ClassifyCommentsRequest,
                         context: grpc.ServicerContext) -> pb.ClassifyCommentsResponse:
        if not request.comments:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "comments: at least one comment is required")
        # A caller that gave up (the benchmark cancels what is in flight when a setting ends)
        # would otherwise keep this worker busy into the next setting.
        if not context.is_active():
            context.abort(grpc.StatusCode.CANCELLED, "caller went away")
        account = request.account_id or DEFAULT_ACCOUNT
        texts = [c.text for c in request.comments]
        try:
            # batch_size covers the whole request: one forward pass per request, never shared.
            predictions = self._predictor.predict(texts, account, batch_size=len(texts))
        except UnknownAccountError:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"account_id: unknown account {account!r}")
        return pb.ClassifyCommentsResponse(
            model_version=self._predictor.version,
            comments=[_to_proto(c.id, p) for c, p in zip(request.comments, predictions, strict=True)])


def serve(registry: Path, port: int, backend: str, threads: int, workers: int, host: str = "127.0.0.1") -> int:
    """Load the champion, serve until SIGTERM/SIGINT; returns the exit code."""
    path = Registry(registry).champion_path()
    if path is None:
        logger.error("no champion in %s", registry)
        return 2
    predictor = load_predictor(path, backend, threads)
    predictor.predict(["warm-up comment"], DEFAULT_ACCOUNT)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    pb_grpc.add_VerbatimServicer_to_server(NaiveServicer(predictor), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if server.add_insecure_port(f"{host}:{port}") == 0:
        logger.error("cannot listen on %s:%d", host, port)
        return 1
    server.start()
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    logger.info("naive server on %s:%d, model %s, backend %s, %d workers", host, port, predictor.version,
                backend, workers)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=1).wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verbatim.bench.naive_server", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--registry", type=Path, required=True, help="registry directory; serves its champion")
    parser.add_argument("--backend", choices=BACKENDS, default="torch")
    parser.add_argument("--threads", type=int, default=0, help="inference threads; 0: every core")
    parser.add_argument("--workers", type=int, default=1,
                        help="gRPC worker threads, i.e. forward passes that may run at once (default 1: "
                             "concurrent passes only fight over the same cores)")
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s naive: %(message)s")
    return serve(args.registry, args.port, args.backend, args.threads, args.workers, args.host)


if __name__ == "__main__":
    sys.exit(main())
