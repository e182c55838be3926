"""What the client subcommands (`classify`, `correct`, `tags`) share: the server flags, the client,
reading CSV/JSONL input, and turning failures into one line on stderr."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from verbatim.healthcheck import default_target

if TYPE_CHECKING:
    from verbatim_client import Client

INSTALL_CLIENT = "pip install ./clients/python (make install does)"


class CliError(Exception):
    """A user's mistake (a bad file, a missing field): printed as one line, exit code 2."""


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """--debug on `parser` and every subcommand under it that lacks one."""
    if "--debug" not in parser._option_string_actions:
        # SUPPRESS: `verbatim --debug tags list` must not be undone by the subcommand's default.
        parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                            help="print the traceback of an error, not just one line")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                add_debug_argument(child)


def server_arguments(account: bool = True) -> argparse.ArgumentParser:
    """A parent parser with --target, --account (unless `account` is false), --timeout and --debug."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--target", default=None,
                        help="server host:port (default: where `verbatim serve` listens, from VERBATIM_HOST and "
                             "VERBATIM_PORT, on loopback)")
    if account:
        parent.add_argument("--account", default="default", help="the account (default: default)")
    parent.add_argument("--timeout", type=positive_float, default=10.0,
                        help="seconds each request may take, retries included (default 10)")
    add_security_arguments(parent)
    add_debug_argument(parent)
    return parent


# Flag -> environment variable read when the flag is not given (the variable keeps the key out of `ps`).
SECURITY_ENV = {"api_key": "VERBATIM_API_KEY", "ca_file": "VERBATIM_CA_FILE",
                "client_cert": "VERBATIM_CLIENT_CERT", "client_key": "VERBATIM_CLIENT_KEY"}


def add_security_arguments(parser: argparse.ArgumentParser) -> None:
    """--api-key, --ca-file, --client-cert and --client-key, each defaulting to its SECURITY_ENV variable."""
    parser.add_argument("--api-key", help="API key sent as `authorization: Bearer` (default: env VERBATIM_API_KEY; "
                                          "the variable keeps it out of the process list)")
    parser.add_argument("--ca-file", help="PEM CA that signed the server's certificate: connect with TLS "
                                          "(default: env VERBATIM_CA_FILE; plaintext when neither is set)")
    parser.add_argument("--client-cert", help="PEM client certificate, for a server that requires one (mTLS; "
                                              "env VERBATIM_CLIENT_CERT)")
    parser.add_argument("--client-key", help="PEM key of --client-cert (env VERBATIM_CLIENT_KEY)")


def security_settings(args: argparse.Namespace) -> dict[str, str | None]:
    """api_key, ca_file, client_cert and client_key: each flag, else its environment variable, else None."""
    return {name: getattr(args, name, None) or os.environ.get(env) or None for name, env in SECURITY_ENV.items()}


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def connect(args: argparse.Namespace) -> Client:
    """A client of the server at --target, with the --timeout deadline."""
    try:
        from verbatim_client import Client
    except ImportError as exc:
        raise CliError(f"`verbatim {args.command}` needs the verbatim-client package: {INSTALL_CLIENT}") from exc
    try:
        return Client(args.target or _local_target(), timeout=args.timeout, **security_settings(args))
    except ValueError as exc:  # an unreadable --ca-file, a --client-cert without --client-key
        raise CliError(str(exc)) from None


def _local_target() -> str:
    from verbatim.service.config import ConfigError

    try:
        return default_target()
    except ConfigError as exc:  # the server's settings say where it listens; one of them is wrong
        raise CliError(f"cannot tell where the server listens: {exc}; or pass --target host:port") from None


def describe(exc: BaseException) -> str:
    """One line for a failure the user can act on."""
    code = getattr(exc, "code", None)  # a VerbatimError's grpc.StatusCode
    details = str(getattr(exc, "details", "")).lower()
    if getattr(code, "name", None) == "UNAVAILABLE" and ("connect" in details or "dns" in details):
        return (f"cannot reach a verbatim server at {getattr(exc, 'target', '?')} "
                f"({' '.join(str(exc).split())}); is `verbatim serve` running there?")
    return " ".join(str(exc).split())


def user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that are the user's or the server's to fix, not a bug of this command."""
    try:
        from verbatim_client import VerbatimError
    except ImportError:
        return CliError, OSError
    return CliError, OSError, VerbatimError


def read_records(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """The rows of a CSV (with a header) or JSONL file, by extension, each with its place ("FILE:LINE")."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        yield from _csv_records(path)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        yield from _jsonl_records(path)
    else:
        raise CliError(f"{path}: unknown format {suffix or '(no extension)'!r}; name it .csv or .jsonl")


def _csv_records(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        for row in reader:
            # Empty cells are absent values; a row with more cells than the header is an error.
            if None in row:
                raise CliError(f"{path}:{reader.line_num}: more cells than the header has columns")
            yield f"{path}:{reader.line_num}", {k: v for k, v in row.items() if k is not None and v not in ("", None)}


def _jsonl_records(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CliError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if not isinstance(record, dict):
                raise CliError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
            yield f"{path}:{number}", {k: v for k, v in record.items() if v is not None}


def text_field(where: str, record: dict[str, Any], name: str, required: bool = True) -> str | None:
    """`record[name]` as a string (a JSON number id is accepted); CliError naming `where` if it is wrong."""
    value = record.get(name)
    if value is None:
        if required:
            raise CliError(f"{where}: no {name!r} field")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CliError(f"{where}: {name!r} must be a string, got {json.dumps(value)}")
    return str(value)


@contextmanager
def output(path: str | None) -> Iterator[IO[str]]:
    """stdout, or --out FILE: written to FILE.part and renamed when complete, so a failed run
    never leaves a half-written FILE."""
    if path is None or path == "-":
        yield sys.stdout
        return
    partial = Path(f"{path}.part")
    try:
        with open(partial, "w", newline="", encoding="utf-8") as file:
            yield file
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
