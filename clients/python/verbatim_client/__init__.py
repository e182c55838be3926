"""verbatim_client: a light, typed client for the verbatim service (grpcio and protobuf only).

    from verbatim_client import Client

    with Client("127.0.0.1:50051") as client:
        for result in client.classify_many(["Slack keeps crashing", "Love it"]):
            print(result.id, [t.path for t in result.tags], result.sentiment.label.value)
"""

from verbatim_client.aio import AsyncClient
from verbatim_client.client import DEFAULT_TARGET, DEFAULT_TIMEOUT, Client
from verbatim_client.errors import VerbatimError
from verbatim_client.retry import RetryBudget, RetryPolicy
from verbatim_client.types import (DEFAULT_ACCOUNT, Account, ClassifiedComment, Comment, Correction, CorrectionAction,
                                   CorrectionOutcome, CorrectionResult, EvaluationSummary, ModelInfo, Sentiment,
                                   SentimentLabel, SentimentProbabilities, SurveyType, Tag, TagPrediction, TagSource)

__all__ = [
    "DEFAULT_ACCOUNT", "DEFAULT_TARGET", "DEFAULT_TIMEOUT", "Account", "AsyncClient", "ClassifiedComment", "Client",
    "Comment", "Correction", "CorrectionAction", "CorrectionOutcome", "CorrectionResult", "EvaluationSummary",
    "RetryBudget", "RetryPolicy", "Sentiment", "SentimentLabel", "SentimentProbabilities", "SurveyType", "Tag",
    "TagPrediction", "TagSource", "VerbatimError",
]
