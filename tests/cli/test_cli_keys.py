"""`verbatim keys new`, and the key reaching a server through the CLI's --api-key and VERBATIM_API_KEY."""

from __future__ import annotations

import hashlib
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from verbatim.cli import main
from verbatim.models.predictor import Predictor
from tests.service.harness import Harness, serving


def test_new_prints_the_key_once_and_a_line_holding_only_its_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new", "--name", "crm-sync", "--accounts", "acme, globex", "--read-only"]) == 0
    key, line = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"name": "crm-sync", "sha256": hashlib.sha256(key.encode()).hexdigest(),
                                "accounts": ["acme", "globex"], "read_only": True}
    assert main(["keys", "new", "--name", "crm-sync", "--accounts", "*"]) == 0
    other, line = capsys.readouterr().out.splitlines()
    assert other != key and json.loads(line)["accounts"] == "*" and "read_only" not in json.loads(line)


def test_new_appends_to_a_key_file_readable_by_its_owner_only(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "keys.jsonl"
    keys = []
    for name in ("one", "two"):
        assert main(["keys", "new", "--name", name, "--accounts", "acme", "--append-to", str(path)]) == 0
        keys.append(capsys.readouterr().out.strip())
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(e["name"], e["sha256"]) for e in lines] == \
        [("one", hashlib.sha256(keys[0].encode()).hexdigest()), ("two", hashlib.sha256(keys[1].encode()).hexdigest())]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not any(key in path.read_text() for key in keys)


@pytest.mark.parametrize("argv", [["--name", "", "--accounts", "a"], ["--name", "n", "--accounts", " , "]])
def test_new_refuses_an_empty_name_or_account_list(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "new", *argv]) == 2
    assert capsys.readouterr().err.startswith("verbatim: error: --")


@pytest.fixture(scope="module")
def keyed(tiny_predictor: Predictor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, str]]:
    path = tmp_path_factory.mktemp("keys") / "keys.jsonl"
    key = "vbk_cli-test-key"
    path.write_text(json.dumps({"name": "cli", "sha256": hashlib.sha256(key.encode()).hexdigest(),
                                "accounts": ["default"]}) + "\n")
    with serving(tiny_predictor, api_keys_file=path) as harness:
        yield harness, key


def test_the_cli_sends_the_key_from_the_flag_or_the_environment(keyed: tuple[Harness, str], monkeypatch:
                                                                pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    harness, key = keyed
    argv = ["classify", "Pages take forever to load", "--json", "--target", f"127.0.0.1:{harness.port}"]
    monkeypatch.delenv("VERBATIM_API_KEY", raising=False)
    assert main(argv) == 2
    assert "UNAUTHENTICATED" in capsys.readouterr().err
    assert main([*argv, "--api-key", key]) == 0
    assert json.loads(capsys.readouterr().out)["id"]
    monkeypatch.setenv("VERBATIM_API_KEY", key)
    assert main(argv) == 0
    assert main([*argv, "--account", "acme"]) == 2
    assert "PERMISSION_DENIED" in capsys.readouterr().err
