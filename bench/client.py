"""What `verbatim bench corrections` does over gRPC: an account admin and a labelling team.

A blocking client of the public Verbatim API: it creates an account (PutTags), replays
labelled records as ADD corrections (SubmitCorrections), waits for a model version to
serve (GetModelInfo) and classifies records (ClassifyComments). Every call has a deadline
and every wait a bound; UNAVAILABLE and RESOURCE_EXHAUSTED are retried a few times with
backoff, as the contract allows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.taxonomy import Taxonomy
from verbatim.training.corpus import Record
from verbatim.training.evaluate import theme_report
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

ACTOR = "bench-corrections"
BATCH = 128  # comments or corrections per request, below the server's default limit of 256
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)
ATTEMPTS = 5

Response = TypeVar("Response")


class BenchClient:
    """The benchmark's side of the API, on one channel to `target`."""

    def __init__(self, target: str, timeout_s: float = 120.0) -> None:
        self.channel = grpc.insecure_channel(target)
        self.stub = pb_grpc.VerbatimStub(self.channel)
        self.timeout_s = timeout_s
        self._clock = datetime.now(timezone.utc)  # correction times: one microsecond apart, in replay order

    def close(self) -> None:
        self.channel.close()

    def put_tags(self, account: str, taxonomy: Taxonomy) -> None:
        tags = [pb.Tag(name=t.name, parent=t.parent, description=t.description, keywords=list(t.keywords))
                for t in taxonomy.tags]
        self._call(self.stub.PutTags, pb.PutTagsRequest(account_id=account, tags=tags))

    def submit(self, account: str, records: Sequence[Record]) -> int:
        """One ADD per (record, tag), in batches; returns how many corrections were newly stored.

        Ids derive from (account, comment, tag), so a replay sent again is a no-op. A record
        without tags cannot be said with ADDs and is skipped.
        """
        corrections = []
        for record in records:
            for tag in sorted(record.tags):
                self._clock += timedelta(microseconds=1)
                stamp = Timestamp()
                stamp.FromDatetime(self._clock)
                corrections.append(pb.Correction(
                    correction_id=f"{ACTOR}:{account}:{record.id}:{tag}", account_id=account, comment_id=record.id,
                    text=record.text, tag=tag, action=pb.CORRECTION_ACTION_ADD, predicted_by_model=False,
                    actor=ACTOR, time=stamp))
        stored = 0
        for start in range(0, len(corrections), BATCH):
            request = pb.SubmitCorrectionsRequest(corrections=corrections[start:start + BATCH])
            response = self._call(self.stub.SubmitCorrections, request)
            stored += sum(r.outcome == pb.CorrectionResult.OUTCOME_STORED for r in response.results)
        return stored

    def model_version(self) -> str:
        return self._call(self.stub.GetModelInfo, pb.GetModelInfoRequest()).version

    def wait_for_version(self, version: str, timeout_s: float) -> None:
        """Block until GetModelInfo reports `version`; RuntimeError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        serving = self.model_version()
        while serving != version:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server still serves {serving} {timeout_s:.0f}s after {version} was promoted")
            time.sleep(0.5)
            serving = self.model_version()

    def classify(self, account: str, records: Sequence[Record]) -> tuple[list[set[str]], set[str]]:
        """The tag names given to each record, and every model version that answered."""
        predicted: list[set[str]] = []
        versions: set[str] = set()
        for start in range(0, len(records), BATCH):
            chunk = records[start:start + BATCH]
            request = pb.ClassifyCommentsRequest(account_id=account,
                                                 comments=[pb.Comment(id=r.id, text=r.text) for r in chunk])
            response = self._call(self.stub.ClassifyComments, request)
            if [c.id for c in response.comments] != [r.id for r in chunk]:
                raise RuntimeError("ClassifyComments answered out of request order")
            predicted += [{t.name for t in c.tags} for c in response.comments]
            versions.add(response.model_version)
        return predicted, versions

    def micro_f1(self, account: str, records: Sequence[Record], tags: Sequence[str]) -> tuple[float, set[str]]:
        """The account's micro-F1 on `records` as served, and the model versions that served it."""
        predicted, versions = self.classify(account, records)
        return theme_report([set(r.tags) for r in records], predicted, tags)["micro_f1"], versions

    def _call(self, method: Callable[..., Response], request: object) -> Response:
        for attempt in range(ATTEMPTS):
            try:
                return method(request, timeout=self.timeout_s)
            except grpc.RpcError as exc:
                if exc.code() not in RETRYABLE or attempt == ATTEMPTS - 1:
                    raise RuntimeError(f"{type(request).__name__}: {exc.code().name}: {exc.details()}") from None
                time.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")
