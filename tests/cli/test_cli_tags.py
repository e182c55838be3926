"""`verbatim tags list|put|delete` against a real server and store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verbatim.cli import main
from verbatim.models.taxonomy import DEFAULT_TAXONOMY
from verbatim.store import Store


def test_list_prints_the_default_taxonomy(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", "list", "--target", target]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(DEFAULT_TAXONOMY.names)
    slack = next(line for line in lines if line.startswith("Integrations \u203a Slack"))
    assert "keywords: slack" in slack
    assert main(["tags", "list", "--target", target, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in listed] == DEFAULT_TAXONOMY.names
    assert next(t for t in listed if t["name"] == "Slack")["parent"] == "Integrations"


def test_put_from_flags_and_from_a_file_then_delete(target: str, store: Store, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    account = ["--account", "cli-tags", "--target", target]
    assert main(["tags", "put", "--name", "Billing", "--description", "Invoices and charges.", "--keyword", "invoice",
                 "--keyword", "charged twice", *account]) == 0
    assert capsys.readouterr().out == "Billing  keywords: invoice, charged twice  Invoices and charges.\n"
    tags = tmp_path / "tags.json"
    tags.write_text(json.dumps({"tags": [{"name": "Refunds", "parent": "Billing", "keywords": ["refund"]},
                                         {"name": "Shipping"}]}))
    assert main(["tags", "put", "--file", str(tags), "--json", *account]) == 0
    assert [(t["name"], t["parent"]) for t in json.loads(capsys.readouterr().out)] == [
        ("Billing", None), ("Refunds", "Billing"), ("Shipping", None)]
    assert store.taxonomy("cli-tags").names == ["Billing", "Refunds", "Shipping"]  # stored, read back directly
    assert main(["tags", "delete", "Billing", *account]) == 2  # still Refunds' parent
    assert "INVALID_ARGUMENT" in capsys.readouterr().err
    assert main(["tags", "delete", "Refunds", *account]) == 0
    assert capsys.readouterr().out.splitlines() == ["Billing   keywords: invoice, charged twice  Invoices and charges.",
                                                    "Shipping  no keywords"]
    assert store.taxonomy("cli-tags").names == ["Billing", "Shipping"]


@pytest.mark.parametrize(("args", "content", "message"), [
    ([], None, "give either --name (with --parent, --description, --keyword) or --file FILE"),
    (["--name", "A", "--file", "{file}"], "[]", "give either --name"),
    (["--file", "{file}"], "[]", "expected a non-empty JSON array of tags"),
    (["--file", "{file}"], '[{"name": "A", "colour": "red"}]', "tags[0]: unknown fields ['colour']"),
    (["--file", "{file}"], '[{"name": "A", "keywords": "a"}]', "tags[0]: 'keywords' must be an array of strings"),
    (["--file", "{file}"], "[{", "not JSON"),
    (["--file", "{file}", "--keyword", "x"], "[]", "--file takes the tags from the file"),
])
def test_bad_put_requests_are_one_line(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       args: list[str], content: str | None, message: str) -> None:
    file = tmp_path / "tags.json"
    if content is not None:
        file.write_text(content)
    argv = ["tags", "put", "--account", "cli-bad", "--target", target, *[a.format(file=file) for a in args]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
