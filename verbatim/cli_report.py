"""`verbatim report`: the Tags tab of a file of survey responses, as one self-contained HTML page with
its charts (PNG too) and summary.json.

Responses without tags are classified by the registry's champion in this process, or, with --target,
by a running server through SummarizeResponses. Either way the rows are streamed and counted, not kept.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tqdm import tqdm

from verbatim.analytics import Granularity, InvalidInput, PeriodCounts, Summary, SummaryOptions, SurveyType
from verbatim.analytics.period_names import FORMATS, PREVIOUS, NamedPeriod, parse_period, previous
from verbatim.cli_common import CliError, add_security_arguments, positive_int, security_settings
from verbatim.models.registry import DEFAULT_REGISTRY, REGISTRY_ENV, registry_path
from verbatim.report_input import FileResponse, count_rows, read_responses

PER_MESSAGE = 100  # with --target: responses per message, under the server's default limit of 256

BATCH = 64  # comments per model call in this process


@dataclass(frozen=True)
class Counted:
    summary: Summary
    model_version: str
    classified: int
    given: int


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `report` to the `verbatim` command's subparsers."""
    parser = subparsers.add_parser(
        "report", help="the Tags tab of a CSV/JSONL file of survey responses: report.html, chart PNGs, summary.json",
        description="Summarise survey responses (columns time, text, score, survey_type, optional tags; any other "
                    "column is a customer property) into a self-contained HTML report with charts, a PNG per "
                    "chart and summary.json. Untagged comments are classified by the registry's champion, or by "
                    "the server at --target.")
    parser.add_argument("--data", required=True, metavar="FILE", help="a .csv or .jsonl file of responses")
    parser.add_argument("--out", default="report", metavar="DIR", help="output folder (default: report)")
    parser.add_argument("--period", help=f"the current period: {FORMATS} (default: every response)")
    parser.add_argument("--compare-to", metavar="PERIOD",
                        help=f"the prior period: {FORMATS}, or '{PREVIOUS}' for the one just before --period")
    parser.add_argument("--segment", metavar="PROPERTY", help="break the current period down by this column")
    parser.add_argument("--granularity", choices=[g.value for g in Granularity], default="week",
                        help="trend buckets (default week)")
    parser.add_argument("--survey-type", choices=[s.value for s in SurveyType],
                        help="the survey of rows without a survey_type column, and the metric to report")
    parser.add_argument("--min-count", type=positive_int, default=SummaryOptions.min_count,
                        help=f"tags with fewer responses are flagged too small (default {SummaryOptions.min_count})")
    parser.add_argument("--min-segment-size", type=positive_int, default=SummaryOptions.min_segment_size,
                        help="smaller segments fold into 'other' (default "
                             f"{SummaryOptions.min_segment_size})")
    parser.add_argument("--tz", default="UTC", help="time zone of times without an offset, and of trend days "
                                                    "(IANA name, default UTC)")
    parser.add_argument("--account", default="default", help="whose taxonomy tags the comments (default: default)")
    parser.add_argument("--title", help="the report's title (default: from the file name)")
    parser.add_argument("--target", help="classify with the server at host:port instead of in this process")
    add_security_arguments(parser)
    parser.add_argument("--batch-size", type=positive_int, default=PER_MESSAGE,
                        help=f"with --target: responses per message, at most the server's per-request limit "
                             f"(default {PER_MESSAGE})")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="with --target: seconds the whole summary may take (default 3600)")
    parser.add_argument("--registry", help=f"without --target: registry whose champion classifies (env "
                                           f"{REGISTRY_ENV}, default {DEFAULT_REGISTRY})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Summarise --data and write the report; 0 on success."""
    from verbatim.analytics.render import ReportMeta, write_report

    tz = _time_zone(args.tz)
    period, prior = _periods(args, tz)
    survey_type = SurveyType(args.survey_type) if args.survey_type else None
    options = _options(args, survey_type)
    if not Path(args.data).is_file():
        raise CliError(f"--data {args.data}: no such file")
    rows = read_responses(args.data, tz, survey_type)
    bar = tqdm(total=count_rows(args.data), unit=" responses", desc="summarising", disable=args.no_progress,
               dynamic_ncols=True)
    with bar:
        counted = (_remote(args, rows, period, prior, tz, options, bar) if args.target
                   else _local(args, rows, period, prior, tz, options, bar))
    meta = ReportMeta(title=args.title or f"Customer feedback: {Path(args.data).name}", account=args.account,
                      model_version=counted.model_version, source=Path(args.data).name,
                      period=period.label if period else "every response",
                      prior_period=prior.label if prior else None, generated_at=datetime.now(timezone.utc))
    files = write_report(counted.summary, args.out, meta)
    print(f"{counted.given + counted.classified} responses ({counted.classified} classified by "
          f"{counted.model_version}, {counted.given} tagged or without a comment)")
    for line in headline(counted.summary, prior.name if prior else None):
        print(line)
    print(f"wrote {files.html} ({len(files.charts)} charts as PNG beside it, and {files.summary_json.name})")
    return 0


def headline(summary: Summary, prior_name: str | None) -> list[str]:
    """Two or three lines that answer the first questions: the score, what drags it down, what changed."""
    lines = []
    score = summary.overall.score
    if score is not None and score.value is not None:
        metric = score.survey_type.value.upper()
        change = "" if summary.score_change is None else f" ({summary.score_change:+.1f} since {prior_name})"
        lines.append(f"{metric} {score.value:.1f}{change} over {score.scored} scored responses")
        drags = [t for t in summary.by_impact if t.impact is not None and t.impact < 0 and not t.too_small][:3]
        if drags:
            lines.append("drags it down most: " + ", ".join(f"{t.name} ({t.impact:+.1f})" for t in drags))
    return lines


def _local(args: argparse.Namespace, rows: Iterator[FileResponse], period: NamedPeriod | None,
           prior: NamedPeriod | None, tz: tzinfo, options: SummaryOptions, bar: tqdm) -> Counted:
    from verbatim.models.backend_names import DEFAULT_BACKEND
    from verbatim.models.loading import load_predictor
    from verbatim.models.predictor import UnknownAccountError
    from verbatim.models.registry import Registry

    registry = Registry(registry_path(args.registry))
    champion = registry.champion_path()
    if champion is None:
        raise CliError(f"no champion in {registry.root}: run `verbatim train`, pass --registry, or use --target")
    predictor = load_predictor(champion, backend=DEFAULT_BACKEND)
    try:
        taxonomy = predictor.taxonomy(args.account)
    except UnknownAccountError:
        raise CliError(f"--account {args.account!r} is not in model {predictor.version}; it knows "
                       f"{predictor.accounts}") from None
    counts = PeriodCounts(taxonomy, period=period.period if period else None,
                          compare_to=prior.period if prior else None, segment_by=args.segment, tz=tz)
    pending: list[FileResponse] = []
    classified = given = 0

    def flush() -> None:
        predictions = predictor.predict([row.response.text or "" for row in pending], args.account, batch_size=BATCH)
        for row, prediction in zip(pending, predictions, strict=True):
            _count(counts, replace(row, response=replace(
                row.response, tags=frozenset(t.name for t in prediction.tags), sentiment=prediction.sentiment)))
        bar.update(len(pending))
        pending.clear()

    for row in rows:
        if row.classify:
            pending.append(row)
            classified += 1
            if len(pending) == BATCH:
                flush()
        else:
            _count(counts, row)
            given += 1
            bar.update(1)
    if pending:
        flush()
    try:
        summary = counts.summary(options)
    except InvalidInput as error:
        raise CliError(_option_error(error)) from None
    return Counted(summary, predictor.version, classified, given)


def _remote(args: argparse.Namespace, rows: Iterator[FileResponse], period: NamedPeriod | None,
            prior: NamedPeriod | None, tz: tzinfo, options: SummaryOptions, bar: tqdm) -> Counted:
    from verbatim.report_remote import summarize_remotely  # grpc and the stubs only when used

    result = summarize_remotely(args.target, args.account, rows, period=period.period if period else None,
                                compare_to=prior.period if prior else None, segment_by=args.segment, tz_name=args.tz,
                                options=options, timeout=args.timeout, per_message=args.batch_size,
                                on_sent=bar.update, **security_settings(args))
    return Counted(result.summary, result.model_version, result.classified, result.given)


def _count(counts: PeriodCounts, row: FileResponse) -> None:
    try:
        counts.add(row.response)
    except InvalidInput as error:
        raise CliError(f"{row.where}: {error}") from None


def _option_error(error: InvalidInput) -> str:
    flags = {"segment_by": "--segment", "survey_type": "--survey-type"}
    return f"{flags.get(error.field, error.field)}: {error.message}"


def _options(args: argparse.Namespace, survey_type: SurveyType | None) -> SummaryOptions:
    return SummaryOptions(survey_type=survey_type, min_count=args.min_count, min_segment_size=args.min_segment_size,
                          granularity=Granularity(args.granularity))


def _periods(args: argparse.Namespace, tz: tzinfo) -> tuple[NamedPeriod | None, NamedPeriod | None]:
    if args.compare_to and not args.period:
        raise CliError("--compare-to needs --period: the current period to compare with it")
    try:
        period = parse_period(args.period, tz, "--period") if args.period else None
        if not args.compare_to or period is None:
            return period, None
        if args.compare_to.strip().lower() == PREVIOUS:
            return period, previous(period, tz)
        return period, parse_period(args.compare_to, tz, "--compare-to")
    except InvalidInput as error:
        raise CliError(str(error)) from None


def _time_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"--tz {name!r}: not an IANA time zone name, e.g. UTC or Europe/Paris") from None
