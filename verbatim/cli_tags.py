"""`verbatim tags list|put|delete --account A`: an account's taxonomy through a running server."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from verbatim.cli_common import CliError, connect, server_arguments

if TYPE_CHECKING:
    from verbatim_client import Tag

TAG_FIELDS = ("name", "parent", "description", "keywords")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add `tags` and its actions to the `verbatim` command's subparsers."""
    tags = subparsers.add_parser("tags", help="list, create or replace, and delete an account's tags")
    actions = tags.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[server_arguments()], help="the account's taxonomy")
    listing.add_argument("--json", action="store_true", help="print a JSON array of tags")
    put = actions.add_parser(
        "put", parents=[server_arguments()], help="create or replace tags (by name), creating the account if new",
        description="One tag from the flags, or many from --file: a JSON array of objects with name, and "
                    "optionally parent, description and keywords (or an object with such a 'tags' array). "
                    "Prints the account's whole taxonomy after the change.")
    put.add_argument("--name", help="the tag's name")
    put.add_argument("--parent", help="the parent tag's name")
    put.add_argument("--description", default="", help="what the tag means")
    put.add_argument("--keyword", action="append", default=[], help="a keyword or phrase that adds the tag by "
                                                                    "rule (repeatable)")
    put.add_argument("--file", metavar="FILE", help="a JSON file of tags, instead of the flags")
    put.add_argument("--json", action="store_true", help="print the taxonomy as JSON")
    delete = actions.add_parser("delete", parents=[server_arguments()], help="remove one tag (not a parent)")
    delete.add_argument("name", help="the tag's name")
    delete.add_argument("--json", action="store_true", help="print the taxonomy as JSON")
    tags.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Carry out `args.action` and print the account's taxonomy; 0 on success."""
    new = _tags_to_put(args) if args.action == "put" else []
    with connect(args) as client:
        if args.action == "list":
            taxonomy = client.list_tags(account=args.account)
        elif args.action == "put":
            taxonomy = client.put_tags(new, account=args.account)
        else:
            taxonomy = client.delete_tag(args.name, account=args.account)
    print(json.dumps([as_dict(t) for t in taxonomy], indent=2, ensure_ascii=False) if args.json
          else format_taxonomy(taxonomy))
    return 0


def format_taxonomy(tags: Sequence[Tag]) -> str:
    """One line per tag: its path, then its keywords and description."""
    if not tags:
        return "no tags"
    width = max(len(t.path) for t in tags)
    lines = []
    for tag in tags:
        keywords = f"keywords: {', '.join(tag.keywords)}" if tag.keywords else "no keywords"
        description = f"  {tag.description}" if tag.description else ""
        lines.append(f"{tag.path:<{width}}  {keywords}{description}".rstrip())
    return "\n".join(lines)


def _tags_to_put(args: argparse.Namespace) -> list[Tag]:
    from verbatim_client import Tag

    if (args.file is None) == (args.name is None):
        raise CliError("give either --name (with --parent, --description, --keyword) or --file FILE")
    if args.file is None:
        return [Tag(name=args.name, parent=args.parent, description=args.description, keywords=tuple(args.keyword))]
    if args.parent or args.description or args.keyword:
        raise CliError("--file takes the tags from the file; drop --parent, --description and --keyword")
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    items = data.get("tags") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise CliError(f"{args.file}: expected a non-empty JSON array of tags (or {{\"tags\": [...]}})")
    return [_tag(f"{args.file}: tags[{i}]", item) for i, item in enumerate(items)]


def _tag(where: str, item: Any) -> Tag:
    from verbatim_client import Tag

    if not isinstance(item, dict):
        raise CliError(f"{where}: expected an object with {', '.join(TAG_FIELDS)}")
    unknown = sorted(set(item) - set(TAG_FIELDS))
    if unknown:
        raise CliError(f"{where}: unknown fields {unknown}; a tag has {', '.join(TAG_FIELDS)}")
    name, parent, description = item.get("name"), item.get("parent"), item.get("description", "")
    keywords = item.get("keywords", [])
    if not isinstance(name, str) or not name:
        raise CliError(f"{where}: 'name' must be a non-empty string")
    if (parent is not None and not isinstance(parent, str)) or not isinstance(description, str):
        raise CliError(f"{where}: 'parent' and 'description' must be strings")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise CliError(f"{where}: 'keywords' must be an array of strings")
    return Tag(name=name, parent=parent, description=description, keywords=tuple(keywords))


def as_dict(tag: Tag) -> dict[str, Any]:
    return {"name": tag.name, "parent": tag.parent, "description": tag.description, "keywords": list(tag.keywords)}
