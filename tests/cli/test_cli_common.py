"""What every client subcommand shares: --help, one-line errors with exit code 2, --debug."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from verbatim.cli import build_parser, main


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def leaf_commands() -> list[list[str]]:
    """Every runnable command path, e.g. ["tags", "put"], found from the parser itself."""
    import argparse

    def walk(parser: argparse.ArgumentParser, path: list[str]) -> list[list[str]]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return [path]
        return [leaf for name, child in subs[0].choices.items() for leaf in walk(child, [*path, name])]

    return walk(build_parser(), [])


def test_every_subcommand_has_help_and_debug(capsys: pytest.CaptureFixture[str]) -> None:
    commands = leaf_commands()
    assert {"classify", "correct", "tags list", "tags put", "tags delete", "registry list"} <= {
        " ".join(c) for c in commands}
    for command in commands:
        with pytest.raises(SystemExit) as info:
            main([*command, "--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: verbatim {' '.join(command)}") and "--debug" in out, command


@pytest.mark.parametrize("argv", [["classify", "hello"], ["tags", "list"], ["tags", "delete", "Bug"]])
def test_a_server_that_is_down_is_one_line_naming_the_target(argv: list[str]) -> None:
    target = f"127.0.0.1:{closed_port()}"
    done = subprocess.run([sys.executable, "-m", "verbatim.cli", *argv, "--target", target, "--timeout", "3"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"verbatim: error: cannot reach a verbatim server at {target} (UNAVAILABLE")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_debug_shows_the_traceback(tmp_path: pytest.TempPathFactory) -> None:
    target = f"127.0.0.1:{closed_port()}"
    for argv in (["--debug", "classify", "hello"], ["classify", "hello", "--debug"]):
        done = subprocess.run([sys.executable, "-m", "verbatim.cli", *argv, "--target", target, "--timeout", "2"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and "Traceback" in done.stderr and "VerbatimError: UNAVAILABLE" in done.stderr


def test_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["correct", "--data", "/nonexistent/corrections.csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "/nonexistent/corrections.csv" in err


def test_no_source_or_two_sources_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify"]) == 2
    assert main(["classify", "text", "--data", "x.csv"]) == 2
    assert capsys.readouterr().err.count("give one source") == 2


def test_a_bad_server_setting_in_the_environment_is_one_line_not_a_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VERBATIM_PORT", "abc")
    with pytest.raises(SystemExit) as exited:
        main(["classify", "--help"])  # help needs no target
    assert exited.value.code == 0
    capsys.readouterr()
    assert main(["classify", "hello"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "VERBATIM_PORT" in err and "--target" in err
