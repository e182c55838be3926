"""Building SummarizeResponses streams for the tests: random survey responses, cut into request messages."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.analytics import Response, Score, SurveyType
from verbatim.models.taxonomy import Taxonomy
from verbatim.models.types import SENTIMENT_LABELS, Sentiment
from verbatim.service.summary_convert import survey_response_to_proto
from verbatim.v1 import verbatim_pb2 as pb

START = datetime(2026, 4, 1, tzinfo=timezone.utc)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def random_responses(count: int, taxonomy: Taxonomy, seed: int = 0, days: int = 182,
                     text_chars: int = 40) -> Iterator[Response]:
    """`count` tagged NPS responses over `days` days from START: random scores (a tenth unscored),
    tags, sentiments, plans and regions; about one in eight without a comment."""
    rng = random.Random(seed)
    names = taxonomy.names
    for i in range(count):
        commented = rng.random() > 0.125
        text = (f"comment {i} " + "x" * text_chars)[:max(text_chars, 1)] if commented else ""
        tags = frozenset(rng.sample(names, rng.randint(0, 2))) if commented else frozenset()
        label = rng.choice(SENTIMENT_LABELS)
        yield Response(
            time=START + timedelta(seconds=rng.randrange(days * 86400)), text=text, tags=tags,
            sentiment=Sentiment(label, round(rng.uniform(-1, 1), 6), {}) if commented else None,
            score=Score(rng.randint(0, 10), SurveyType.NPS) if rng.random() > 0.1 else None,
            properties={"plan": rng.choice(["team", "enterprise"]), "region": rng.choice(["NA", "EMEA", "APAC"])})


def to_proto(response: Response) -> pb.SurveyResponse:
    """The wire form of `response`, its tags and sentiment given."""
    return survey_response_to_proto(response, given=True)


def stream(responses: Sequence[pb.SurveyResponse] | Iterator[pb.SurveyResponse], per_message: int,
           options: pb.SummaryOptions | None = None) -> Iterator[pb.SummarizeResponsesRequest]:
    """The request stream: `options` in the first message, then `per_message` responses per message."""
    chunk: list[pb.SurveyResponse] = []
    first = True
    for response in responses:
        chunk.append(response)
        if len(chunk) == per_message:
            yield pb.SummarizeResponsesRequest(options=options if first else None, responses=chunk)
            chunk, first = [], False
    if chunk or first:
        yield pb.SummarizeResponsesRequest(options=options if first else None, responses=chunk)
