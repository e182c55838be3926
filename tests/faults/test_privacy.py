"""No comment text in the logs or the metrics of a whole run: classify, corrections, summaries, bad
input, a crash inside a batch. Every text sent carries a distinctive marker, and the captured log
records (every logger, DEBUG and up, tracebacks included) and a /metrics scrape are searched for it.
The same run with VERBATIM_LOG_COMMENT_TEXT on shows the capture would have seen a leak."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.predictor import Predictor
from verbatim.store import Store
from verbatim.v1 import verbatim_pb2 as pb
from tests.service.harness import RecordingPredictor, classify, comment, serving
from tests.service.scrape import scrape_text


def _stamp() -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(2026, 5, 1, tzinfo=timezone.utc))
    return stamp


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            parts.append(record.stack_info)
    return "\n".join(parts)


def _full_run(predictor: RecordingPredictor, store_path: Path, caplog: pytest.LogCaptureFixture,
              **settings: object) -> tuple[list[str], str, str, list[grpc.StatusCode]]:
    """Run every kind of request, each text with its own marker; returns (markers, logs, metrics, codes)."""
    markers: list[str] = []

    def text(prefix: str = "The export crashes") -> str:
        markers.append(f"zq{uuid.uuid4().hex[:12]}")
        return f"{prefix} {markers[-1]}"

    codes: list[grpc.StatusCode] = []

    def call(rpc: Callable[[], object]) -> None:
        try:
            rpc()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            codes.append(exc.code())

    caplog.set_level(logging.DEBUG)
    with Store(f"sqlite:///{store_path}") as store, \
            serving(predictor, {"store": store}, reload_s=0, max_text_chars=120, **settings) as h:
        stub = h.stub
        call(lambda: stub.ClassifyComments(classify(comment("a", text()), comment("b", text("Support was great"))),
                                           timeout=30))
        good = pb.Correction(correction_id=f"c-{uuid.uuid4()}", comment_id="a", text=text(), tag="Bug",
                             action=pb.CORRECTION_ACTION_ADD, time=_stamp())
        call(lambda: stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[good]), timeout=30))
        conflict = pb.Correction(correction_id=good.correction_id, comment_id="a", text=text(), tag="Bug",
                                 action=pb.CORRECTION_ACTION_ADD, time=_stamp())
        call(lambda: stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[conflict]), timeout=30))
        responses = [pb.SurveyResponse(text=text(), score=9, survey_type=pb.SURVEY_TYPE_NPS, time=_stamp())
                     for _ in range(3)]
        call(lambda: stub.SummarizeResponses(iter([pb.SummarizeResponsesRequest(responses=responses)]), timeout=30))
        # Bad input of every kind: too long, unknown account, NUL byte, an unknown tag in a correction.
        call(lambda: stub.ClassifyComments(classify(comment("a", text("x" * 130))), timeout=30))
        call(lambda: stub.ClassifyComments(classify(comment("a", text()), account="nobody"), timeout=30))
        call(lambda: stub.ClassifyComments(classify(comment("a", text("nul \x00 byte"))), timeout=30))
        bad_tag = pb.Correction(correction_id="c-bad", comment_id="a", text=text(), tag="No such tag",
                                action=pb.CORRECTION_ACTION_ADD, time=_stamp())
        call(lambda: stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=[bad_tag]), timeout=30))
        metrics = scrape_text(h.server.metrics_port)
    # A crash inside a batch (a server without a store serves the predictor itself, not a live-taxonomy copy).
    predictor.fail = True
    with serving(predictor, reload_s=0, **settings) as h:
        call(lambda: h.stub.ClassifyComments(classify(comment("a", text()), comment("b", text())), timeout=30))
        call(lambda: h.stub.SummarizeResponses(iter([pb.SummarizeResponsesRequest(
            responses=[pb.SurveyResponse(text=text(), time=_stamp())])]), timeout=30))
        metrics += scrape_text(h.server.metrics_port)
    return markers, _everything_logged(caplog), metrics, codes


def test_no_comment_text_in_logs_or_metrics(tiny_predictor: Predictor, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    markers, logs, metrics, codes = _full_run(RecordingPredictor(tiny_predictor), tmp_path / "store.db", caplog)
    # The run did reach every path: successes, refusals and the crash.
    ok, bad = grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT
    # A NUL byte is fine in a comment to classify (only the store refuses it).
    assert codes[:-2] == [ok, ok, bad, ok, bad, bad, ok, bad], codes
    assert codes[-2:] == [grpc.StatusCode.INTERNAL] * 2, codes
    assert "a batch of 2 comments failed" in logs  # the crash was logged, without its texts
    assert len(markers) == 14
    leaked = [m for m in markers if m in logs]
    assert not leaked, f"comment text in the logs: {leaked}\n{logs}"
    assert not [m for m in markers if m in metrics], "comment text in /metrics"


def test_comment_text_is_logged_only_when_asked(tiny_predictor: Predictor, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    markers, logs, _, _ = _full_run(RecordingPredictor(tiny_predictor), tmp_path / "store.db", caplog,
                                    log_comment_text=True)
    crashed = markers[-3:-1]  # the two comments of the failed ClassifyComments batch
    assert all(m in logs for m in crashed), logs
