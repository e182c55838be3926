"""`verbatim report --target`: the responses streamed to a running server's SummarizeResponses."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import grpc

from verbatim.analytics import Period, SummaryOptions
from verbatim.cli_common import INSTALL_CLIENT, CliError
from verbatim.report_input import FileResponse
from verbatim.service.summaries import SummaryResult
from verbatim.service.summary_convert import survey_response_to_proto, summary_from_proto, summary_options_to_proto
from verbatim.v1 import verbatim_pb2 as pb
from verbatim.v1 import verbatim_pb2_grpc as pb_grpc

_INDEX = re.compile(r"^responses\[(\d+)\]")


def summarize_remotely(target: str, account: str, rows: Iterable[FileResponse], *, period: Period | None,
                       compare_to: Period | None, segment_by: str | None, tz_name: str, options: SummaryOptions,
                       timeout: float, per_message: int,
                       on_sent: Callable[[int], object] = lambda n: None, api_key: str | None = None,
                       ca_file: str | None = None, client_cert: str | None = None,
                       client_key: str | None = None) -> SummaryResult:
    """The summary the server at `target` makes of `rows` (untagged ones classified there), sent with
    `api_key`, over TLS when a CA or client certificate is given."""
    try:
        from verbatim_client.security import auth_metadata, tls_credentials
    except ImportError as exc:
        raise CliError(f"`verbatim report --target` needs the verbatim-client package: {INSTALL_CLIENT}") from exc
    try:
        metadata, credentials = auth_metadata(api_key), tls_credentials(ca_file, client_cert, client_key)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    first = summary_options_to_proto(account, period=period, compare_to=compare_to, segment_by=segment_by,
                                     tz_name=tz_name, options=options)
    places: list[str] = []  # "FILE:LINE" of each response sent, to name the row of a refused one

    def requests() -> Iterator[pb.SummarizeResponsesRequest]:
        chunk: list[pb.SurveyResponse] = []
        sent_options = False
        for row in rows:
            places.append(row.where)
            chunk.append(survey_response_to_proto(row.response, given=not row.classify))
            if len(chunk) == per_message:
                yield pb.SummarizeResponsesRequest(options=None if sent_options else first, responses=chunk)
                on_sent(len(chunk))
                chunk, sent_options = [], True
        if chunk or not sent_options:
            yield pb.SummarizeResponsesRequest(options=None if sent_options else first, responses=chunk)
            on_sent(len(chunk))

    channel = grpc.secure_channel(target, credentials) if credentials is not None else grpc.insecure_channel(target)
    with channel:
        try:
            answer = pb_grpc.VerbatimStub(channel).SummarizeResponses(requests(), timeout=timeout, metadata=metadata)
        except grpc.RpcError as error:
            raise CliError(_describe(error, target, places)) from None
    return SummaryResult(summary_from_proto(answer.summary), answer.model_version, answer.classified, answer.given)


def _describe(error: grpc.RpcError, target: str, places: list[str]) -> str:
    code, details = error.code(), error.details() or ""  # type: ignore[attr-defined]
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"cannot reach a verbatim server at {target} ({details}); is `verbatim serve` running there?"
    if details.startswith("responses: "):  # too many per message for this server
        return f"{target} refused a message: {details.removeprefix('responses: ')} (lower --batch-size)"
    match = _INDEX.match(details)
    if match and int(match[1]) < len(places):
        return f"{places[int(match[1])]}: refused by the server: {details}"
    return f"{target} answered {code.name}: {details}"

