"""`verbatim accounts create` against a real server and store."""

from __future__ import annotations

import json

import pytest

from verbatim.cli import main
from verbatim.models.industries import INDUSTRY_TAXONOMIES
from verbatim.store import Store


def test_create_prints_the_industrys_taxonomy_and_stores_the_account(target: str, store: Store,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accounts", "create", "cli-shop", "--industry", "ecommerce", "--target", target]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = INDUSTRY_TAXONOMIES["ecommerce"]
    assert lines[0] == f"created account 'cli-shop' (ecommerce, {len(expected.tags)} tags)"
    assert lines[1].startswith("Delivery") and "keywords: delivery, deliveries" in lines[1]
    assert len(lines) == 1 + len(expected.tags)
    assert store.taxonomy("cli-shop") == expected and store.account_industry("cli-shop") == "ecommerce"

    assert main(["accounts", "create", "cli-saas", "--json", "--target", target]) == 0
    created = json.loads(capsys.readouterr().out)
    assert (created["account_id"], created["industry"]) == ("cli-saas", "saas")
    assert [t["name"] for t in created["tags"]] == INDUSTRY_TAXONOMIES["saas"].names


def test_an_account_that_exists_is_one_line(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accounts", "create", "cli-news", "--industry", "media", "--target", target]) == 0
    capsys.readouterr()
    assert main(["accounts", "create", "cli-news", "--industry", "media", "--target", target]) == 2
    err = capsys.readouterr().err
    assert "ALREADY_EXISTS" in err and "account_id: account 'cli-news' already exists" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["cli-x", "--industry", "retail"], "invalid choice: 'retail' (choose from"),
    (["industry:media"], "account_id: 'industry:media' starts with 'industry:', a prefix reserved"),
])
def test_bad_requests_name_the_problem(target: str, capsys: pytest.CaptureFixture[str], args: list[str],
                                       message: str) -> None:
    try:
        code = main(["accounts", "create", *args, "--target", target])
    except SystemExit as exit_:  # argparse refuses an unknown choice itself
        code = exit_.code
    assert code == 2
    assert message in capsys.readouterr().err
