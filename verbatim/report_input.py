"""The responses file of `verbatim report`: CSV or JSONL rows of survey responses, as analytics responses.

Columns (CSV header or JSONL fields): `time` (ISO 8601; without an offset it is in --tz), `text`, `score`,
`survey_type` (nps, csat or ces; or --survey-type for every row), optional `tags` (CSV: names separated
by ";"; JSONL: a list); any other column is a customer property (plan, region, ...). A row with `tags`
is counted as tagged; the others are classified by the model. An `id` column is ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from verbatim.analytics import InvalidInput, Response, Score, SurveyType
from verbatim.cli_common import CliError, read_records

RESERVED = ("time", "text", "score", "survey_type", "tags", "id")
TAG_SEPARATOR = ";"


@dataclass(frozen=True)
class FileResponse:
    """One row: its place in the file ("FILE:LINE"), the response, and whether the model must tag it."""

    where: str
    response: Response
    classify: bool


def read_responses(path: str, tz: tzinfo, survey_type: SurveyType | None = None) -> Iterator[FileResponse]:
    """The rows of `path`, in file order; CliError naming the row and the column at the first bad one."""
    for where, record in read_records(path):
        try:
            yield _response(record, tz, survey_type, where)
        except InvalidInput as error:
            raise CliError(f"{where}: {error}") from None


def count_rows(path: str) -> int:
    """How many rows `path` has (for the progress bar's total)."""
    return sum(1 for _ in read_records(path))


def _response(record: dict[str, Any], tz: tzinfo, default_survey: SurveyType | None, where: str) -> FileResponse:
    text = record.get("text")
    if text is not None and not isinstance(text, str):
        raise InvalidInput("text", f"must be a string, got {text!r}")
    score = None
    if "score" in record:
        survey = record.get("survey_type", default_survey)
        if survey is None:
            raise InvalidInput("survey_type", "missing: add a survey_type column (nps, csat or ces) or pass "
                                              "--survey-type")
        score = Score(_whole_number(record["score"]), SurveyType.parse(survey))
    tagged = "tags" in record
    response = Response(time=_time(record.get("time"), tz), text=text, score=score,
                        tags=_tags(record["tags"]) if tagged else frozenset(),
                        properties={key: _property(key, value) for key, value in record.items() if key not in RESERVED})
    return FileResponse(where, response, classify=not tagged and response.has_comment)


def _time(value: Any, tz: tzinfo) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput("time", "missing: every row needs the time of the answer (ISO 8601, e.g. "
                                   "2026-07-14T09:30:00Z)")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("time", f"{value!r} is not an ISO 8601 time, e.g. 2026-07-14T09:30:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInput("score", f"must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput("score", f"must be a whole number, got {value!r}") from None
    if not number.is_integer():
        raise InvalidInput("score", f"must be a whole number, got {value!r}")
    return int(number)


def _tags(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(name.strip() for name in value.split(TAG_SEPARATOR) if name.strip())
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return frozenset(value)
    raise InvalidInput("tags", f"must be tag names separated by {TAG_SEPARATOR!r} (CSV) or a list of names (JSONL)")


def _property(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidInput(key, f"a customer property must be text or a number, got {value!r}")
    return str(value)
