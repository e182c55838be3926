"""`verbatim classify`: comments from the command line, stdin or a CSV/JSONL file, through a
running server (verbatim_client), to readable text, JSONL or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from verbatim.cli_common import (CliError, connect, output, positive_int, read_records, server_arguments,
                                 text_field)

if TYPE_CHECKING:
    from verbatim_client import ClassifiedComment, Comment, Sentiment

CSV_COLUMNS = ("id", "text", "tags", "sentiment", "sentiment_score", "needs_review", "model_version")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `classify` to the `verbatim` command's subparsers."""
    parser = subparsers.add_parser(
        "classify", parents=[server_arguments()], help="classify comments with a running server",
        description="Classify one comment (TEXT), one comment per line of stdin (-), or every row of a CSV or "
                    "JSONL file (--data: a 'text' column or field, optional 'id', 'score', 'survey_type'). One "
                    "comment prints as text; otherwise, or with --format, as JSONL or CSV.")
    parser.add_argument("text", nargs="?", metavar="TEXT", help="the comment, or - to read one per line from stdin")
    parser.add_argument("--data", metavar="FILE", help="a .csv or .jsonl file of comments")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: text for one TEXT, "
                                                                   "else jsonl)")
    parser.add_argument("--json", action="store_true", help="one TEXT: print its result as indented JSON")
    parser.add_argument("--out", metavar="FILE", help="write the results to FILE instead of stdout")
    parser.add_argument("--batch-size", type=positive_int, help="comments per request (default: the server's limit)")
    parser.add_argument("--max-in-flight", type=positive_int, default=4, help="requests at a time (default 4)")
    parser.add_argument("--min-confidence", type=float, help="drop tags below this confidence (0-1)")
    parser.add_argument("--only-tag", action="append", default=[], metavar="TAG", help="return only this tag "
                                                                                       "(repeatable)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar for --data")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Classify what `args` names and write the results; 0 on success."""
    comments = _comments(args)
    with connect(args) as client:
        results = client.classify_many(comments, account=args.account, batch_size=args.batch_size,
                                       max_in_flight=args.max_in_flight, min_confidence=args.min_confidence,
                                       only_tags=args.only_tag, timeout=args.timeout,
                                       progress=args.data is not None and not args.no_progress)
    texts = {c.id: c.text for c in comments}
    single = args.text not in (None, "-")
    with output(args.out) as out:
        if single and args.json and not args.format:
            print(json.dumps(record(results[0], texts[results[0].id]), indent=2, ensure_ascii=False), file=out)
        elif single and not args.format and not args.out:
            print(format_comment(results[0]), file=out)
        elif args.format == "csv":
            write_csv(results, texts, out)
        else:
            for result in results:
                print(json.dumps(record(result, texts[result.id]), ensure_ascii=False), file=out)
    if args.out:
        print(f"classified {len(results)} comments into {args.out}", file=sys.stderr)
    return 0


def _comments(args: argparse.Namespace) -> list[Comment]:
    from verbatim_client import Comment

    if (args.text is None) == (args.data is None):
        raise CliError("give one source: a comment, - for stdin (one comment per line), or --data FILE")
    if args.data is not None:
        comments: list[Comment] = []
        first_seen: dict[str, str] = {}
        for where, row in read_records(args.data):
            comment = _comment(where, row)
            if comment.id in first_seen:
                raise CliError(f"{where}: id {comment.id!r} repeats line {first_seen[comment.id]} (a row without an "
                               "id takes its line number)")
            first_seen[comment.id] = where.rpartition(":")[2]
            comments.append(comment)
    elif args.text == "-":
        comments = [Comment(id=str(n), text=line.rstrip("\r\n")) for n, line in enumerate(sys.stdin, start=1)
                    if line.strip()]
    else:
        comments = [Comment(id="1", text=args.text)]
    if not comments:
        raise CliError(f"no comments in {args.data or 'stdin'}")
    return comments


def _comment(where: str, row: dict[str, Any]) -> Comment:
    from verbatim_client import Comment, SurveyType

    text = text_field(where, row, "text")
    assert text is not None
    cid = text_field(where, row, "id", required=False) or where.rpartition(":")[2]  # the line number
    score, survey = row.get("score"), row.get("survey_type")
    try:
        return Comment(id=cid, text=text, score=None if score is None else float(score),
                       survey_type=None if survey is None else SurveyType(str(survey).lower()))
    except ValueError:
        raise CliError(f"{where}: score {score!r} or survey_type {survey!r} is not valid (survey_type is one of "
                       f"{', '.join(s.value for s in SurveyType)})") from None


def record(result: ClassifiedComment, text: str) -> dict[str, Any]:
    """One result as a JSON object: the JSONL line, and `--json`."""
    return {"id": result.id, "text": text,
            "tags": [{"name": t.name, "parent": t.parent, "confidence": round(t.confidence, 4),
                      "source": t.source.value, "evidence": t.evidence,
                      "sentiment": _sentiment(t.sentiment) if t.sentiment else None} for t in result.tags],
            "sentiment": _sentiment(result.sentiment),
            "needs_review": result.needs_review, "model_version": result.model_version}


def _sentiment(s: Sentiment) -> dict[str, Any]:
    p = s.probabilities
    return {"label": s.label.value, "score": round(s.score, 4),
            "probabilities": {"negative": round(p.negative, 4), "neutral": round(p.neutral, 4),
                              "positive": round(p.positive, 4)}}


def write_csv(results: Sequence[ClassifiedComment], texts: dict[str, str], out: IO[str]) -> None:
    """One row per comment; `tags` holds the tag names joined by "; "."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in results:
        writer.writerow([r.id, texts[r.id], "; ".join(t.name for t in r.tags), r.sentiment.label.value,
                         f"{r.sentiment.score:.4f}", str(r.needs_review).lower(), r.model_version])


def format_comment(result: ClassifiedComment) -> str:
    """The readable form of one result: tags with confidence and source, sentiment, model."""
    parents = {t.name: t.parent for t in result.tags if t.parent is not None}

    def path(name: str) -> str:  # the whole chain, root first, however deep the taxonomy nests
        chain = [name]
        while chain[-1] in parents and parents[chain[-1]] not in chain:
            chain.append(parents[chain[-1]])
        return " \u203a ".join(reversed(chain))

    lines = ["tags:" if result.tags else "tags: none"]
    paths = [path(t.name) for t in result.tags]
    width = max(map(len, paths), default=0)
    for path, tag in zip(paths, result.tags):
        evidence = f'  "{tag.evidence}"' if tag.evidence is not None else ""
        feeling = f"  {tag.sentiment.label.name:<8}" if tag.sentiment else ""
        lines.append(f"  {path:<{width}}  {tag.confidence:.2f}  {tag.source.name:<5}{feeling}{evidence}")
    s, p = result.sentiment, result.sentiment.probabilities
    lines.append(f"sentiment: {s.label.name} (score {s.score:+.2f}; negative {p.negative:.2f}, "
                 f"neutral {p.neutral:.2f}, positive {p.positive:.2f})")
    lines.append(f"needs review: {'yes' if result.needs_review else 'no'}")
    lines.append(f"model: {result.model_version}")
    return "\n".join(lines)
