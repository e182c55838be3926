"""Small builders for analytics tests: a fixed taxonomy and terse responses."""

from __future__ import annotations

from datetime import datetime, timezone

from verbatim.analytics import Response, Score, SurveyType
from verbatim.models.taxonomy import Tag, Taxonomy
from verbatim.models.types import Sentiment

# Integrations › Slack: a child that must count toward its parent.
TAXONOMY = Taxonomy((Tag("Bug"), Tag("Integrations"), Tag("Slack", parent="Integrations"), Tag("Price"),
                     Tag("Support"), Tag("Usability")))
MONDAY = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)  # 2026-03-02 is a Monday


def response(score: int | None = None, *tags: str, text: str | None = "a comment",
             sentiment: tuple[str, float] | None = None, survey: SurveyType = SurveyType.NPS,
             time: datetime = MONDAY, **properties: str) -> Response:
    """A response scoring `score` (None: unscored) with `tags`; `text=None` for no comment."""
    return Response(time=time, text=text, tags=frozenset(tags),
                    sentiment=Sentiment(sentiment[0], sentiment[1], {}) if sentiment else None,
                    score=Score(score, survey) if score is not None else None, properties=properties)
