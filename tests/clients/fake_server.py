"""A scripted verbatim server for retry tests: answers each call with the next scripted status."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager

import grpc

from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

OK = grpc.StatusCode.OK
ANSWER = pb.ClassifyCommentsResponse(model_version="fake-1", comments=[pb.ClassifiedComment(
    id="0", tags=[pb.TagPrediction(name="Bug", confidence=0.75, source=pb.TAG_SOURCE_MODEL)],
    sentiment=pb.Sentiment(label=pb.SENTIMENT_LABEL_NEGATIVE, score=-0.5,
                           probabilities=pb.SentimentProbabilities(negative=0.6, neutral=0.3, positive=0.1)))])


class ScriptedServicer(pb_grpc.VerbatimServicer):
    """ClassifyComments answers with `script[i]` on call i (the last entry repeats), after `delay` s."""

    def __init__(self, script: Sequence[grpc.StatusCode], delay: float = 0.0) -> None:
        self.script, self.delay = list(script), delay
        self.calls: list[float] = []  # monotonic arrival times
        self._lock = threading.Lock()

    def ClassifyComments(self, request: pb.ClassifyCommentsRequest,
                         context: grpc.ServicerContext) -> pb.ClassifyCommentsResponse:
        with self._lock:
            self.calls.append(time.monotonic())
            code = self.script[min(len(self.calls), len(self.script)) - 1]
        time.sleep(self.delay)
        if code != OK:
            context.abort(code, f"scripted {code.name}")
        return ANSWER


@contextmanager
def scripted(*script: grpc.StatusCode, delay: float = 0.0) -> Iterator[tuple[str, ScriptedServicer]]:
    """A real gRPC server on 127.0.0.1 running ScriptedServicer; yields its target and the servicer."""
    servicer = ScriptedServicer(script, delay)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_VerbatimServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        server.stop(grace=None)
