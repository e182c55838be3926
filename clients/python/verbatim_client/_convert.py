"""The one place where the client's values become protobuf messages and back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timezone

from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim_client._stubs import verbatim_pb2 as pb
from verbatim_client.types import (DEFAULT_ACCOUNT, Account, ClassifiedComment, Comment, Correction, CorrectionAction,
                                   CorrectionOutcome, CorrectionResult, EvaluationSummary, ModelInfo, Sentiment,
                                   SentimentLabel, SentimentProbabilities, SurveyType, Tag, TagPrediction, TagSource)

_SURVEY_TYPES = {SurveyType.NPS: pb.SURVEY_TYPE_NPS, SurveyType.CSAT: pb.SURVEY_TYPE_CSAT,
                 SurveyType.CES: pb.SURVEY_TYPE_CES}
_SENTIMENTS = {SentimentLabel.NEGATIVE: pb.SENTIMENT_LABEL_NEGATIVE, SentimentLabel.NEUTRAL: pb.SENTIMENT_LABEL_NEUTRAL,
               SentimentLabel.POSITIVE: pb.SENTIMENT_LABEL_POSITIVE}
_SENTIMENTS_BACK = {number: label for label, number in _SENTIMENTS.items()}
_SOURCES = {pb.TAG_SOURCE_MODEL: TagSource.MODEL, pb.TAG_SOURCE_RULE: TagSource.RULE,
            pb.TAG_SOURCE_BOTH: TagSource.BOTH}
_ACTIONS = {CorrectionAction.ADD: pb.CORRECTION_ACTION_ADD, CorrectionAction.REMOVE: pb.CORRECTION_ACTION_REMOVE}
_OUTCOMES = {pb.CorrectionResult.OUTCOME_STORED: CorrectionOutcome.STORED,
             pb.CorrectionResult.OUTCOME_DUPLICATE: CorrectionOutcome.DUPLICATE}


def as_comments(items: Iterable[str | Comment]) -> list[Comment]:
    """Comments as given; a bare string becomes a comment whose id is its position ("0", "1", ...)."""
    return [item if isinstance(item, Comment) else Comment(id=str(i), text=item) for i, item in enumerate(items)]


def classify_request(comments: Sequence[Comment], account: str, min_confidence: float | None,
                     only_tags: Sequence[str]) -> pb.ClassifyCommentsRequest:
    options = pb.ClassifyOptions(only_tags=only_tags)
    if min_confidence is not None:
        options.min_confidence = min_confidence
    return pb.ClassifyCommentsRequest(account_id=account, comments=[_comment(c) for c in comments], options=options)


def _comment(comment: Comment) -> pb.Comment:
    message = pb.Comment(id=comment.id, text=comment.text)
    if comment.score is not None:
        message.score = comment.score
    if comment.survey_type is not None:
        message.survey_type = _SURVEY_TYPES[SurveyType(comment.survey_type)]
    return message


def classified(response: pb.ClassifyCommentsResponse) -> list[ClassifiedComment]:
    return [ClassifiedComment(
        id=c.id,
        tags=tuple(TagPrediction(name=t.name, parent=t.parent if t.HasField("parent") else None,
                                 confidence=t.confidence, source=_SOURCES[t.source],
                                 evidence=t.evidence if t.HasField("evidence") else None,
                                 sentiment=_sentiment(t.sentiment) if t.HasField("sentiment") else None)
                   for t in c.tags),
        sentiment=_sentiment(c.sentiment),
        needs_review=c.needs_review, model_version=response.model_version) for c in response.comments]


def _sentiment(s: pb.Sentiment) -> Sentiment:
    return Sentiment(label=_SENTIMENTS_BACK[s.label], score=s.score,
                     probabilities=SentimentProbabilities(negative=s.probabilities.negative,
                                                          neutral=s.probabilities.neutral,
                                                          positive=s.probabilities.positive))


def corrections_request(corrections: Sequence[Correction]) -> pb.SubmitCorrectionsRequest:
    return pb.SubmitCorrectionsRequest(corrections=[_correction(c) for c in corrections])


def _correction(c: Correction) -> pb.Correction:
    stamp = Timestamp()
    stamp.FromDatetime(c.time if c.time.tzinfo else c.time.replace(tzinfo=timezone.utc))
    message = pb.Correction(correction_id=c.correction_id, account_id=c.account_id, comment_id=c.comment_id,
                            text=c.text, predicted_by_model=c.predicted_by_model, actor=c.actor, time=stamp)
    if c.tag is not None:
        message.tag = c.tag
    if c.action is not None:
        message.action = _ACTIONS[CorrectionAction(c.action)]
    if c.sentiment is not None:
        message.sentiment = _SENTIMENTS[SentimentLabel(c.sentiment)]
    if c.tag_sentiment is not None:
        message.tag_sentiment = _SENTIMENTS[SentimentLabel(c.tag_sentiment)]
    return message


def correction_results(response: pb.SubmitCorrectionsResponse) -> list[CorrectionResult]:
    return [CorrectionResult(r.correction_id, _OUTCOMES[r.outcome]) for r in response.results]


def tag_to_proto(tag: Tag) -> pb.Tag:
    message = pb.Tag(name=tag.name, description=tag.description, keywords=tag.keywords)
    if tag.parent is not None:
        message.parent = tag.parent
    return message


def tags(messages: Iterable[pb.Tag]) -> list[Tag]:
    return [Tag(name=t.name, parent=t.parent if t.HasField("parent") else None, description=t.description,
                keywords=tuple(t.keywords)) for t in messages]


def model_info_request(account: str | None) -> pb.GetModelInfoRequest:
    return pb.GetModelInfoRequest() if account is None else pb.GetModelInfoRequest(account_id=account)


def _summary(s: pb.EvaluationSummary) -> EvaluationSummary:
    fields = [f.name for f in pb.EvaluationSummary.DESCRIPTOR.fields]
    return EvaluationSummary(**{name: getattr(s, name) for name in fields if s.HasField(name)})


def model_info(response: pb.GetModelInfoResponse) -> ModelInfo:
    summary = _summary(response.summary)
    return ModelInfo(
        version=response.version,
        created_at=response.created_at.ToDatetime(tzinfo=timezone.utc) if response.HasField("created_at") else None,
        accounts={a.account_id or DEFAULT_ACCOUNT: tuple(tags(a.tags)) for a in response.accounts},
        summary=summary, evaluation=MessageToDict(response.evaluation),
        training_config=MessageToDict(response.training_config), data_fingerprint=response.data_fingerprint,
        max_length=response.max_length,
        industries={a.account_id or DEFAULT_ACCOUNT: a.industry for a in response.accounts if a.industry},
        industry_summaries={industry: _summary(s) for industry, s in sorted(response.industries.items())},
        calibration=MessageToDict(response.calibration))


def account(response: pb.CreateAccountResponse) -> Account:
    return Account(account_id=response.account_id, industry=response.industry, tags=tuple(tags(response.tags)))
