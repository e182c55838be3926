"""`verbatim accounts create NAME --industry ecommerce`: a new account through a running server, starting
from its industry's default taxonomy (models.industries)."""

from __future__ import annotations

import argparse
import json

from verbatim.cli_common import connect, server_arguments
from verbatim.cli_tags import as_dict, format_taxonomy
from verbatim.models.industries import DEFAULT_INDUSTRY, INDUSTRY_TAXONOMIES


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `accounts` and its actions to the `verbatim` command's subparsers."""
    accounts = subparsers.add_parser("accounts", help="create an account from its industry's default taxonomy")
    actions = accounts.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", parents=[server_arguments(account=False)], help="create an account (refused if it exists)",
        description="Creates the account with its industry's default tags and keywords, and prints them. Until a "
                    "model is trained on its corrections, the tags the industry's default model knows are served "
                    "by it, the others by their keywords.")
    create.add_argument("name", help="the new account's id")
    # The server checks the industry too: these choices only fail faster, with the same list.
    create.add_argument("--industry", choices=sorted(INDUSTRY_TAXONOMIES), default=DEFAULT_INDUSTRY,
                        help=f"the industry whose taxonomy it starts from (default: {DEFAULT_INDUSTRY})")
    create.add_argument("--json", action="store_true", help="print the account and its tags as JSON")
    accounts.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Create the account and print its taxonomy; 0 on success."""
    with connect(args) as client:
        account = client.create_account(args.name, industry=args.industry)
    if args.json:
        print(json.dumps({"account_id": account.account_id, "industry": account.industry,
                          "tags": [as_dict(t) for t in account.tags]}, indent=2, ensure_ascii=False))
    else:
        print(f"created account {account.account_id!r} ({account.industry}, {len(account.tags)} tags)")
        print(format_taxonomy(account.tags))
    return 0
