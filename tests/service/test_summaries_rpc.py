"""SummarizeResponses over a real socket, on the tiny model: the answer against the in-process analytics,
classification through the batcher, errors naming the field, a full queue, metrics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import grpc
import pytest

from verbatim.analytics import Granularity, Period, PeriodCounts, SummaryOptions, summarize_responses
from verbatim.models.predictor import Predictor
from verbatim.service.summary_convert import summary_from_proto
from verbatim.v1 import verbatim_pb2 as pb

from tests.service.harness import Harness, classify, comment, rpc_error, serving, wait_until
from tests.service.summary_stream import random_responses, stream, timestamp, to_proto

Q2 = Period(datetime(2026, 4, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
Q3 = Period(datetime(2026, 7, 1, tzinfo=timezone.utc), datetime(2026, 10, 1, tzinfo=timezone.utc))
TEXTS = ["The Slack integration keeps crashing", "Support answered in minutes, great job", "Too expensive for us",
         "Reports load so slowly", "Love the new inbox", "Onboarding took months", "ok", "Docs are out of date"]


@pytest.fixture(scope="module")
def server(tiny_predictor: Predictor) -> Iterator[Harness]:
    """A server whose per-message limit lets one message hold a thousand responses."""
    with serving(tiny_predictor, max_comments_per_request=1000, max_text_chars=200) as harness:
        yield harness


def options(**fields: Any) -> pb.SummaryOptions:
    return pb.SummaryOptions(**fields)


def window(period: Period) -> pb.TimeRange:
    return pb.TimeRange(start=timestamp(period.start), end=timestamp(period.end))


def summarize(harness: Harness, requests: Any, timeout: float = 60) -> pb.SummarizeResponsesResponse:
    return harness.stub.SummarizeResponses(iter(list(requests)), timeout=timeout)


def test_given_tags_equal_the_in_process_summary_however_the_stream_is_cut(server: Harness,
                                                                            tiny_predictor: Predictor) -> None:
    taxonomy = tiny_predictor.taxonomy("default")
    responses = list(random_responses(3000, taxonomy, seed=1))
    expected = summarize_responses(responses, taxonomy, period=Q3, compare_to=Q2, segment_by="plan",
                                   options=SummaryOptions(granularity=Granularity.MONTH, min_count=20))
    wire = options(period=window(Q3), compare_to=window(Q2), segment_by="plan", granularity=pb.GRANULARITY_MONTH,
                   min_count=20)
    for per_message in (1000, 7, 256):
        answer = summarize(server, stream([to_proto(r) for r in responses], per_message, wire))
        assert summary_from_proto(answer.summary) == expected
        assert (answer.given, answer.classified) == (3000, 0)
        assert answer.model_version == tiny_predictor.version
    # independently of the analytics: the current period holds the Q3 responses, by their times
    assert expected.overall.responses == sum(r.time in Q3 for r in responses)


def test_responses_without_tags_are_classified_like_classify_comments(server: Harness,
                                                                       tiny_predictor: Predictor) -> None:
    texts = [TEXTS[i % len(TEXTS)] + f" #{i}" for i in range(300)]
    start = datetime(2026, 7, 6, tzinfo=timezone.utc)
    wire = [pb.SurveyResponse(text=t, score=i % 11, survey_type=pb.SURVEY_TYPE_NPS, time=timestamp(start))
            for i, t in enumerate(texts)]
    answer = summarize(server, stream(wire, 64))
    assert (answer.classified, answer.given) == (300, 0)
    classified = []
    for first in range(0, len(texts), 100):
        reply = server.stub.ClassifyComments(classify(*[comment(str(i), texts[i]) for i in
                                                        range(first, first + 100)]), timeout=30)
        classified += reply.comments
    # the tags as ClassifyComments gives them, a child counting toward its parent (already in its answer)
    tag_counts = Counter(tag.name for c in classified for tag in c.tags)
    summary = summary_from_proto(answer.summary)
    assert {t.name: t.count for t in summary.tags} == dict(tag_counts)
    labels = Counter(pb.SentimentLabel.Name(c.sentiment.label) for c in classified)
    sentiment = summary.overall.sentiment
    assert (sentiment.negative, sentiment.neutral, sentiment.positive) == (
        labels["SENTIMENT_LABEL_NEGATIVE"], labels["SENTIMENT_LABEL_NEUTRAL"], labels["SENTIMENT_LABEL_POSITIVE"])
    assert sentiment.mean == pytest.approx(sum(c.sentiment.score for c in classified) / 300, abs=1e-4)


def test_a_mixed_stream_counts_given_and_blank_responses_without_the_model(server: Harness,
                                                                           tiny_predictor: Predictor) -> None:
    moment = timestamp(datetime(2026, 7, 6, tzinfo=timezone.utc))
    given = pb.SurveyResponse(text="whatever the model thinks", score=3, survey_type=pb.SURVEY_TYPE_NPS, time=moment,
                              given=pb.GivenLabels(tags=["Slack"]))
    blank = pb.SurveyResponse(text="   ", score=10, survey_type=pb.SURVEY_TYPE_NPS, time=moment)
    model = pb.SurveyResponse(text="Support was great", score=9, survey_type=pb.SURVEY_TYPE_NPS, time=moment)
    answer = summarize(server, stream([given, blank, model], 2))
    assert (answer.given, answer.classified) == (2, 1)
    summary = summary_from_proto(answer.summary)
    assert (summary.overall.responses, summary.overall.commented) == (3, 2)
    assert summary.overall.score is not None and summary.overall.score.value == pytest.approx(100 * (2 - 1) / 3)
    assert summary.current.tag("Integrations").count >= 1  # Slack's parent, from the given tag


def test_an_empty_stream_is_an_empty_summary(server: Harness) -> None:
    answer = summarize(server, [])
    assert answer.summary.current.figures.responses == 0
    assert not answer.summary.current.tags


@pytest.mark.parametrize("requests, field", [
    ([pb.SummarizeResponsesRequest(responses=[pb.SurveyResponse(text="x", score=5, survey_type=9,
                                                                time=timestamp(Q3.start))])],
     "responses[0].survey_type"),
    ([pb.SummarizeResponsesRequest(responses=[pb.SurveyResponse(text="x"), pb.SurveyResponse(
        text="x", score=11, survey_type=pb.SURVEY_TYPE_NPS)])], "responses[0].time"),
    ([pb.SummarizeResponsesRequest(responses=[pb.SurveyResponse(text="x", score=5, time=timestamp(Q3.start))])],
     "responses[0].survey_type"),
    ([pb.SummarizeResponsesRequest(options=pb.SummaryOptions(period=pb.TimeRange(
        start=timestamp(Q3.end), end=timestamp(Q3.start))))], "options.period.end"),
    ([pb.SummarizeResponsesRequest(options=pb.SummaryOptions(time_zone="Mars/Olympus"))], "options.time_zone"),
    ([pb.SummarizeResponsesRequest(options=pb.SummaryOptions(account_id="nobody"))], "options.account_id"),
    ([pb.SummarizeResponsesRequest(), pb.SummarizeResponsesRequest(options=pb.SummaryOptions(top=3))], "options"),
    ([pb.SummarizeResponsesRequest(options=pb.SummaryOptions(min_count=0))], "options.min_count"),
])
def test_bad_input_names_the_field(server: Harness, requests: list[pb.SummarizeResponsesRequest], field: str) -> None:
    error = rpc_error(lambda: summarize(server, requests))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith(field + ".") or error.details().startswith(field + ":"), error.details()


def test_errors_count_responses_across_the_whole_stream(server: Harness) -> None:
    moment = timestamp(Q3.start)
    good = pb.SurveyResponse(text="fine", score=8, survey_type=pb.SURVEY_TYPE_NPS, time=moment,
                             given=pb.GivenLabels())
    bad_score = pb.SurveyResponse(text="fine", score=11, survey_type=pb.SURVEY_TYPE_NPS, time=moment)
    error = rpc_error(lambda: summarize(server, stream([good] * 5 + [bad_score], 3)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details().startswith("responses[5].score: 11 is out of range for NPS"), error.details()
    unknown_tag = pb.SurveyResponse(text="fine", time=moment, given=pb.GivenLabels(tags=["Weather"]))
    error = rpc_error(lambda: summarize(server, stream([good] * 4 + [unknown_tag], 2)))
    assert error.details().startswith("responses[4].given.tags: unknown tag 'Weather'"), error.details()


def test_asking_for_a_property_no_response_has_or_mixing_surveys_is_refused(server: Harness) -> None:
    moment = timestamp(Q3.start)
    nps = pb.SurveyResponse(text="fine", score=8, survey_type=pb.SURVEY_TYPE_NPS, time=moment, given=pb.GivenLabels(),
                            properties={"plan": "team"})
    error = rpc_error(lambda: summarize(server, stream([nps], 10, options(segment_by="region"))))
    assert error.details().startswith("options.segment_by: no response has the property 'region'")
    csat = pb.SurveyResponse(text="fine", score=4, survey_type=pb.SURVEY_TYPE_CSAT, time=moment,
                             given=pb.GivenLabels())
    error = rpc_error(lambda: summarize(server, stream([nps, csat], 10)))
    assert error.details().startswith("options.survey_type: the responses mix survey types (csat, nps)")
    # choosing one: the other survey's responses count in shares only
    answer = summarize(server, stream([nps, csat], 10, options(survey_type=pb.SURVEY_TYPE_CSAT)))
    assert answer.summary.current.figures.score.scored == 1


def test_a_message_over_the_per_request_limit_is_refused(tiny_predictor: Predictor) -> None:
    with serving(tiny_predictor, max_comments_per_request=4, queue_capacity=8) as harness:
        moment = timestamp(Q3.start)
        five = [pb.SurveyResponse(text="fine", time=moment, given=pb.GivenLabels())] * 5
        error = rpc_error(lambda: summarize(harness, stream(five, 5)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error.details() == "responses: 5 responses in one message, the limit is 4 per message; send them in " \
                                  "more messages"


def test_a_stream_larger_than_the_queue_waits_for_room_instead_of_failing(tiny_predictor: Predictor) -> None:
    # 40 comments to classify through a queue of 8: the summary must pace itself, not answer RESOURCE_EXHAUSTED
    with serving(tiny_predictor, max_comments_per_request=8, queue_capacity=8, max_batch_comments=4) as harness:
        moment = timestamp(Q3.start)
        wire = [pb.SurveyResponse(text=f"{TEXTS[i % 8]} {i}", time=moment) for i in range(40)]
        answer = summarize(harness, stream(wire, 8))
        assert answer.classified == 40


def test_a_summary_is_counted_in_the_request_metrics(tiny_predictor: Predictor) -> None:
    from tests.service.scrape import parse, scrape_text

    with serving(tiny_predictor) as harness:
        summarize(harness, [])
        rpc_error(lambda: summarize(harness, [pb.SummarizeResponsesRequest(options=options(top=0))]))

        def counted(code: str) -> float:
            samples = parse(scrape_text(harness.server.metrics_port))
            key = ("verbatim_requests_total", frozenset({"rpc": "SummarizeResponses", "code": code}.items()))
            return samples.get(key, 0)

        wait_until(lambda: counted("INVALID_ARGUMENT") == 1)  # an abort is counted just after the caller has it
        assert counted("OK") == 1


def test_the_period_counts_route_each_response_by_its_time() -> None:
    # the routing the RPC relies on, against a hand count
    from tests.analytics.factories import TAXONOMY, response

    counts = PeriodCounts(TAXONOMY, period=Q3, compare_to=Q2)
    for moment, score in ((Q2.start, 0), (Q3.start, 10), (Q3.end, 10), (datetime(2026, 8, 1, tzinfo=timezone.utc), 0)):
        counts.add(response(score, time=moment))
    assert counts.current.total.overall.responses == 2  # Q3.end is outside the half-open period
    assert counts.prior is not None and counts.prior.total.overall.responses == 1
    assert counts.summary().score_change == pytest.approx(0 - (-100))  # Q3: one 10 and one 0; Q2: one 0
