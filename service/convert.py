"""The one place where protobuf messages become domain objects and back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from google.protobuf.struct_pb2 import Struct
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.artifact import ArtifactMeta
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Tag, Taxonomy
from verbatim.models.types import Prediction, Sentiment, TagPrediction, TagSource
from verbatim.service.errors import InvalidArgument
from verbatim.service.requests import ClassifyOptions, ClassifyRequest, CommentInput
from verbatim.store.corrections import Action, Correction, Outcome, SubmitResult
from verbatim.v1 import verbatim_pb2 as pb

_SURVEY_TYPES: dict[int, str | None] = {
    pb.SURVEY_TYPE_UNSPECIFIED: None,
    pb.SURVEY_TYPE_NPS: "nps",
    pb.SURVEY_TYPE_CSAT: "csat",
    pb.SURVEY_TYPE_CES: "ces",
}
_SENTIMENT_LABELS: dict[str, int] = {
    "negative": pb.SENTIMENT_LABEL_NEGATIVE,
    "neutral": pb.SENTIMENT_LABEL_NEUTRAL,
    "positive": pb.SENTIMENT_LABEL_POSITIVE,
}
_SENTIMENTS_FROM_PROTO: dict[int, str] = {number: label for label, number in _SENTIMENT_LABELS.items()}
_ACTIONS: dict[int, Action | None] = {
    pb.CORRECTION_ACTION_UNSPECIFIED: None,
    pb.CORRECTION_ACTION_ADD: Action.ADD,
    pb.CORRECTION_ACTION_REMOVE: Action.REMOVE,
}
_OUTCOMES: dict[Outcome, int] = {
    Outcome.STORED: pb.CorrectionResult.OUTCOME_STORED,
    Outcome.DUPLICATE: pb.CorrectionResult.OUTCOME_DUPLICATE,
}
_TAG_SOURCES: dict[TagSource, int] = {
    TagSource.MODEL: pb.TAG_SOURCE_MODEL,
    TagSource.RULE: pb.TAG_SOURCE_RULE,
    TagSource.BOTH: pb.TAG_SOURCE_BOTH,
}


def account_from_proto(account_id: str) -> str:
    return account_id or DEFAULT_ACCOUNT


def model_info_account_from_proto(request: pb.GetModelInfoRequest) -> str | None:
    """The one account asked about, or None for all of them."""
    return account_from_proto(request.account_id) if request.HasField("account_id") else None


def classify_request_from_proto(request: pb.ClassifyCommentsRequest) -> ClassifyRequest:
    comments = tuple(
        CommentInput(id=c.id, text=c.text, score=c.score if c.HasField("score") else None,
                     # An enum value newer than this server reads as "no survey type".
                     survey_type=_SURVEY_TYPES.get(c.survey_type))
        for c in request.comments)
    options = ClassifyOptions(
        min_confidence=request.options.min_confidence if request.options.HasField("min_confidence") else None,
        only_tags=tuple(request.options.only_tags))
    return ClassifyRequest(account_id=account_from_proto(request.account_id), comments=comments, options=options)


def classify_response_to_proto(model_version: str, ids: Sequence[str],
                               predictions: Sequence[Prediction]) -> pb.ClassifyCommentsResponse:
    return pb.ClassifyCommentsResponse(
        model_version=model_version,
        comments=[prediction_to_proto(i, p) for i, p in zip(ids, predictions, strict=True)])


def prediction_to_proto(comment_id: str, prediction: Prediction) -> pb.ClassifiedComment:
    return pb.ClassifiedComment(id=comment_id, tags=[tag_prediction_to_proto(t) for t in prediction.tags],
                                sentiment=sentiment_to_proto(prediction.sentiment),
                                needs_review=prediction.needs_review)


def tag_prediction_to_proto(tag: TagPrediction) -> pb.TagPrediction:
    return pb.TagPrediction(name=tag.name, parent=tag.parent, confidence=tag.confidence,
                            source=_TAG_SOURCES[tag.source], evidence=tag.evidence,
                            sentiment=sentiment_to_proto(tag.sentiment) if tag.sentiment else None)


def sentiment_to_proto(sentiment: Sentiment) -> pb.Sentiment:
    probs = sentiment.probabilities
    return pb.Sentiment(
        label=_SENTIMENT_LABELS.get(sentiment.label, pb.SENTIMENT_LABEL_UNSPECIFIED), score=sentiment.score,
        probabilities=pb.SentimentProbabilities(negative=probs.get("negative", 0.0), neutral=probs.get("neutral", 0.0),
                                                positive=probs.get("positive", 0.0)))


def tag_to_proto(tag: Tag) -> pb.Tag:
    return pb.Tag(name=tag.name, parent=tag.parent, description=tag.description, keywords=list(tag.keywords))


def tag_from_proto(tag: pb.Tag) -> Tag:
    # An unset parent is a top-level tag; a parent set to "" reaches the store, which names the field.
    return Tag(name=tag.name, parent=tag.parent if tag.HasField("parent") else None, description=tag.description,
               keywords=tuple(tag.keywords))


def tags_from_proto(tags: Sequence[pb.Tag]) -> list[Tag]:
    return [tag_from_proto(t) for t in tags]


def taxonomy_to_proto(taxonomy: Taxonomy) -> list[pb.Tag]:
    return [tag_to_proto(t) for t in taxonomy.tags]


def corrections_from_proto(request: pb.SubmitCorrectionsRequest, key_name: str | None = None) -> list[Correction]:
    """Domain corrections, in request order, recorded as sent with the API key `key_name`. Raises
    InvalidArgument for what only the wire form can get wrong (an unset time, an enum value this
    server does not know); the store checks the rest."""
    return [correction_from_proto(c, f"corrections[{i}]", key_name) for i, c in enumerate(request.corrections)]


def correction_from_proto(c: pb.Correction, where: str, key_name: str | None = None) -> Correction:
    if c.HasField("tag") and not c.tag:
        raise InvalidArgument(f"{where}.tag", "must not be empty when set; leave it unset for a sentiment-only "
                                              "correction")
    if c.action not in _ACTIONS:
        raise InvalidArgument(f"{where}.action", f"unknown value {c.action}; expected ADD or REMOVE")
    return Correction(correction_id=c.correction_id, account_id=account_from_proto(c.account_id),
                      comment_id=c.comment_id, text=c.text, tag=c.tag, action=_ACTIONS[c.action],
                      predicted_by_model=c.predicted_by_model, sentiment=_sentiment_from_proto(c, "sentiment", where),
                      actor=c.actor, time=_correction_time(c, where), key_name=key_name,
                      tag_sentiment=_sentiment_from_proto(c, "tag_sentiment", where))


def _sentiment_from_proto(c: pb.Correction, field: str, where: str) -> str | None:
    """The label of the optional sentiment `field` of `c`; None when unset or UNSPECIFIED."""
    value = getattr(c, field)
    if not c.HasField(field) or value == pb.SENTIMENT_LABEL_UNSPECIFIED:
        return None
    if value not in _SENTIMENTS_FROM_PROTO:
        raise InvalidArgument(f"{where}.{field}", f"unknown value {value}; expected NEGATIVE, NEUTRAL or POSITIVE")
    return _SENTIMENTS_FROM_PROTO[value]


def _correction_time(c: pb.Correction, where: str) -> datetime:
    # Required rather than defaulted to the arrival time: a retry of the same correction_id
    # must carry the same content, and a server-side default would differ between attempts.
    if not c.HasField("time"):
        raise InvalidArgument(f"{where}.time", "must be set to when the person made the correction")
    try:
        return c.time.ToDatetime(tzinfo=timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(f"{where}.time", f"not a valid timestamp ({exc})") from None


def submit_result_to_proto(corrections: Sequence[Correction], result: SubmitResult) -> pb.SubmitCorrectionsResponse:
    return pb.SubmitCorrectionsResponse(results=[
        pb.CorrectionResult(correction_id=c.correction_id, outcome=_OUTCOMES[outcome])
        for c, outcome in zip(corrections, result.outcomes, strict=True)])


def model_info_to_proto(meta: ArtifactMeta, taxonomies: Mapping[str, Taxonomy],
                        industries: Mapping[str, str] | None = None) -> pb.GetModelInfoResponse:
    """`taxonomies` are the accounts to list, by account id; `industries` their industries, where known."""
    industries = industries or {}
    response = pb.GetModelInfoResponse(
        version=meta.version,
        accounts=[pb.AccountTags(account_id=account, tags=[tag_to_proto(t) for t in taxonomy.tags],
                                 industry=industries.get(account, ""))
                  for account, taxonomy in sorted(taxonomies.items())],
        summary=_summary(meta.evaluation.get("seed_test") or {}, meta.evaluation.get("training_seconds")),
        industries={industry: _summary(report) for industry, report in
                    (meta.evaluation.get("industries") or {}).items()},
        calibration=_struct(meta.calibration),
        evaluation=_struct(meta.evaluation),
        training_config=_struct(meta.training_config),
        data_fingerprint=meta.data_fingerprint,
        max_length=meta.max_length)
    created = _timestamp(meta.created_at)
    if created is not None:
        response.created_at.CopyFrom(created)
    return response


def _summary(test: Mapping[str, Any], training_seconds: float | None = None) -> pb.EvaluationSummary:
    """The headline figures of one evaluate() report."""
    themes, sentiment = test.get("themes") or {}, test.get("sentiment") or {}
    baseline, calibration = test.get("keyword_baseline") or {}, test.get("calibration") or {}
    review = test.get("review") or {}
    return pb.EvaluationSummary(
        theme_micro_f1=themes.get("micro_f1"), theme_macro_f1=themes.get("macro_f1"),
        keyword_baseline_micro_f1=baseline.get("micro_f1"),
        sentiment_accuracy=sentiment.get("accuracy"), sentiment_macro_f1=sentiment.get("macro_f1"),
        test_comments=test.get("comments"), training_seconds=training_seconds,
        tag_sentiment_accuracy=(test.get("tag_sentiment") or {}).get("accuracy"),
        theme_ece=calibration.get("theme_ece"), sentiment_ece=calibration.get("sentiment_ece"),
        needs_review_share=review.get("flagged_share"), needs_review_error_ratio=review.get("error_ratio"))


def _struct(data: Mapping[str, Any]) -> Struct:
    struct = Struct()
    struct.update(dict(data))
    return struct


def _timestamp(iso: str) -> Timestamp | None:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)  # artifacts are written in UTC
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp
