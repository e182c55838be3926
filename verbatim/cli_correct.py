"""`verbatim correct --data FILE`: import people's corrections (CSV or JSONL) through a running server."""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any

from verbatim.cli_common import CliError, connect, positive_int, read_records, server_arguments, text_field

if TYPE_CHECKING:
    from verbatim_client import Correction

FIELDS = ("correction_id", "account_id", "comment_id", "text", "tag", "action", "predicted_by_model", "sentiment",
          "actor", "time", "tag_sentiment")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0", ""}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `correct` to the `verbatim` command's subparsers."""
    parser = subparsers.add_parser(
        "correct", parents=[server_arguments()], help="import corrections from a CSV or JSONL file",
        description="Send the corrections in FILE to SubmitCorrections, in requests within the server's limit. "
                    f"Columns or fields: {', '.join(FIELDS)}. Required: correction_id, comment_id, text, time "
                    "(ISO 8601, e.g. 2026-03-01T12:30:00Z), and a tag with its action (ADD or REMOVE) or a "
                    "sentiment (negative, neutral, positive); tag_sentiment, with an ADD, is the sentiment about "
                    "the tag. account_id defaults to --account. Idempotent on "
                    "correction_id: importing the same file again stores nothing new.")
    parser.add_argument("--data", required=True, metavar="FILE", help="a .csv or .jsonl file of corrections")
    parser.add_argument("--batch-size", type=positive_int, help="corrections per request (default: the server's "
                                                                "limit)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Read and check the whole file, then submit it; print the counts. 0 on success."""
    corrections = [_correction(where, row, args.account) for where, row in read_records(args.data)]
    if not corrections:
        raise CliError(f"no corrections in {args.data}")
    with connect(args) as client:
        results = client.submit_corrections(corrections, batch_size=args.batch_size, timeout=args.timeout,
                                            progress=not args.no_progress)
    counts = Counter(r.outcome.value for r in results)
    print(f"{len(results)} corrections: {counts['stored']} stored, {counts['duplicate']} already stored")
    return 0


def _correction(where: str, row: dict[str, Any], account: str) -> Correction:
    from verbatim_client import Correction, CorrectionAction, SentimentLabel

    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise CliError(f"{where}: unknown fields {unknown}; the fields are {', '.join(FIELDS)}")
    tag = text_field(where, row, "tag", required=False)
    action = _choice(where, row, "action", CorrectionAction)
    sentiment = _choice(where, row, "sentiment", SentimentLabel)
    tag_sentiment = _choice(where, row, "tag_sentiment", SentimentLabel)
    if tag is not None and action is None:
        raise CliError(f"{where}: tag {tag!r} needs an action, ADD or REMOVE")
    if tag is None and action is not None:
        raise CliError(f"{where}: action {action.name} needs a tag")
    if tag is None and sentiment is None:
        raise CliError(f"{where}: nothing to correct: give a tag and action, or a sentiment")
    if tag_sentiment is not None and action is not CorrectionAction.ADD:
        raise CliError(f"{where}: tag_sentiment needs a tag with action ADD")
    return Correction(correction_id=_required(where, row, "correction_id"),
                      comment_id=_required(where, row, "comment_id"), text=_required(where, row, "text"),
                      time=_time(where, row), account_id=text_field(where, row, "account_id", False) or account,
                      tag=tag, action=action, sentiment=sentiment, tag_sentiment=tag_sentiment,
                      predicted_by_model=_flag(where, row.get("predicted_by_model", False)),
                      actor=text_field(where, row, "actor", required=False) or "")


def _required(where: str, row: dict[str, Any], name: str) -> str:
    value = text_field(where, row, name)
    assert value is not None
    return value


def _choice(where: str, row: dict[str, Any], name: str, enum: Any) -> Any:
    value = row.get(name)
    if value is None:
        return None
    try:
        return enum[str(value).strip().upper()]
    except KeyError:
        raise CliError(f"{where}: {name} {value!r} is not one of {', '.join(e.name for e in enum)}") from None


def _time(where: str, row: dict[str, Any]) -> datetime:
    # Required, never "now": a re-import must send the same content, or the server refuses it.
    value = _required(where, row, "time")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise CliError(f"{where}: time {value!r} is not ISO 8601 (e.g. 2026-03-01T12:30:00Z)") from None


def _flag(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in _TRUE | _FALSE:
        raise CliError(f"{where}: predicted_by_model {value!r} is not true or false")
    return text in _TRUE
