"""`verbatim keys new --name N --accounts a,b [--read-only]`: a new API key, shown once, and its key file line.

stdout gets two lines, the key and then the line for the server's key file (VERBATIM_API_KEYS_FILE),
so a script can split them; what to do with each goes to stderr. With --append-to FILE the line is
appended to FILE (created readable by its owner only) and stdout gets the key alone. The server
keeps only the key's SHA-256, so a lost key cannot be recovered: make a new one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from verbatim.cli_common import CliError, add_debug_argument


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `keys` and its actions to the `verbatim` command's subparsers."""
    keys = subparsers.add_parser("keys", help="make API keys for the server's key file")
    actions = keys.add_subparsers(dest="action", required=True)
    new = actions.add_parser("new", help="print a new random API key once, and the line for the key file")
    new.add_argument("--name", required=True, help="what the key is for, e.g. crm-sync; recorded with each "
                                                   "correction it submits")
    new.add_argument("--accounts", required=True,
                     help="comma-separated account ids the key may use, or '*' for every account")
    new.add_argument("--read-only", action="store_true",
                     help="the key may classify and read, but not submit corrections or change tags")
    new.add_argument("--append-to", metavar="FILE", help="append the line to this key file and print only the key")
    add_debug_argument(new)
    keys.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from verbatim.service.auth import ALL_ACCOUNTS, key_line, new_key
    from verbatim.store.names import name_problem

    problem = name_problem(args.name)
    if problem is not None:
        raise CliError(f"--name {args.name!r}: {problem}")
    accounts: list[str] | None = None
    if args.accounts.strip() != ALL_ACCOUNTS:
        accounts = [a.strip() for a in args.accounts.split(",") if a.strip()]
        if not accounts:
            raise CliError("--accounts: give account ids separated by commas, or '*' for every account")
        for account in accounts:
            problem = name_problem(account)
            if problem is not None:
                raise CliError(f"--accounts: {account!r}: {problem}")
    key = new_key()
    line = key_line(args.name, key, accounts, read_only=args.read_only)
    if args.append_to:
        _append(Path(args.append_to), line)
        print(f"added key {args.name!r} to {args.append_to}; the key, shown once:", file=sys.stderr)
        print(key)
        return 0
    print("the key, shown once (callers send it as `authorization: Bearer <key>`), then the line for the "
          "server's key file (VERBATIM_API_KEYS_FILE):", file=sys.stderr)
    print(key)
    print(line)
    return 0


def _append(path: Path, line: str) -> None:
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    descriptor = os.open(path, flags, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        if file.tell() > 0 and not path.read_bytes().endswith(b"\n"):
            file.write("\n")
        file.write(line + "\n")
