"""`verbatim registry list|show|promote|rollback` on a real registry of tiny models, driven through
its own argparse root (as verbatim/cli.py wires it), and the champion history under it."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from verbatim import cli_registry
from verbatim.models.artifact import META_FILE
from verbatim.models.predictor import Predictor
from verbatim.models.registry import HISTORY_FILE, Registry, RegistryError, champion_stack
from verbatim.service.model_slot import ModelSlot
from verbatim.service.reload import Reloader


@dataclass
class Result:
    code: int
    out: str
    err: str


def verbatim(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    parser = argparse.ArgumentParser(prog="verbatim")
    cli_registry.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code = args.func(args)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


# Two later versions, named as training names them (models.registry.new_version), after the tiny one.
HEADS, FULL = "v29991201T100000000000Z-heads", "v29991202T100000000000Z-full"


def add_version(registry: Registry, name: str, **meta: object) -> str:
    """A new version: the tiny model's files under `name`, with `meta` over its artifact.json."""
    with registry.stage(name) as staging:
        shutil.copytree(registry.path(registry.versions()[0]), staging, dirs_exist_ok=True)
        data = json.loads((staging / META_FILE).read_text())
        (staging / META_FILE).write_text(json.dumps(data | {"version": name} | meta))
    return name


@pytest.fixture()
def registry(tiny_registry: Registry, tmp_path: Path) -> Registry:
    """The tiny champion and two later versions that are not promoted: a heads-only one with
    known figures (HEADS) and a full retrain that was rejected (FULL)."""
    root = shutil.copytree(tiny_registry.root, tmp_path / "registry")
    (root / HISTORY_FILE).unlink(missing_ok=True)  # as a registry from before the history
    registry = Registry(root)
    seed_test = {"comments": 40, "themes": {"micro_f1": 0.8125, "macro_f1": 0.5},
                 "sentiment": {"accuracy": 0.6875, "macro_f1": 0.625, "count": 40},
                 "keyword_baseline": {"micro_f1": 0.25}}
    add_version(registry, HEADS, created_at="2026-12-01T10:00:00+00:00",
                training_config={"mode": "heads-only", "base_version": registry.champion()},
                evaluation={"seed_test": seed_test, "retrain": {"decision": "promoted", "mode": "heads-only"}})
    add_version(registry, FULL, created_at="2026-12-02T10:00:00+00:00", training_config={"mode": "full"},
                evaluation={"retrain": {"decision": "rejected", "mode": "full", "reasons": ["default: worse"]}})
    return registry


def test_list_marks_the_champion_and_shows_each_versions_headline(registry: Registry,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    tiny = registry.champion()
    assert tiny is not None
    tiny_meta = json.loads((registry.path(tiny) / META_FILE).read_text())
    tiny_f1 = tiny_meta["evaluation"]["seed_test"]["themes"]["micro_f1"]
    result = verbatim(capsys, "registry", "list", "--registry", str(registry.root))
    assert result.code == 0 and result.err == ""
    rows = {line.split()[1] if line.startswith("*") else line.split()[0]: line
            for line in result.out.splitlines()[1:]}
    assert set(rows) == {tiny, HEADS, FULL}
    assert [v for v, line in rows.items() if line.startswith("*")] == [tiny]
    assert rows[tiny].split()[2:5] == ["train", tiny_meta["created_at"], f"{tiny_f1:.3f}"]
    assert rows[HEADS].split()[1:] == ["heads-only", "2026-12-01T10:00:00+00:00", "0.812", "0.688", "0.625", "promoted"]
    assert rows[FULL].split()[1:] == ["retrain", "2026-12-02T10:00:00+00:00", "–", "–", "–", "rejected"]


def test_list_json_and_show(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    listed = json.loads(verbatim(capsys, "registry", "list", "--json", "--registry", str(registry.root)).out)
    assert [(r["version"], r["champion"]) for r in listed] == [(registry.champion(), True), (HEADS, False),
                                                                (FULL, False)]
    assert listed[1]["sentiment_accuracy"] == 0.6875 and listed[2]["theme_micro_f1"] is None
    shown = json.loads(verbatim(capsys, "registry", "show", HEADS, "--json", "--registry", str(registry.root)).out)
    assert shown["artifact"] == json.loads((registry.path(HEADS) / META_FILE).read_text())
    assert shown["kind"] == "heads-only" and shown["champion"] is False
    text = verbatim(capsys, "registry", "show", FULL, "--registry", str(registry.root)).out
    assert "kind:         retrain" in text and "retrain:      rejected (full" in text and "- default: worse" in text
    assert "(champion)" not in text
    assert "(champion)" in verbatim(capsys, "registry", "show", str(registry.champion()),
                                    "--registry", str(registry.root)).out


def test_promote_and_rollback_walk_back_through_the_champions(registry: Registry,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    tiny, where = registry.champion(), ("--registry", str(registry.root))
    assert verbatim(capsys, "registry", "promote", HEADS, *where).out.startswith(f"champion: {tiny} -> {HEADS}")
    assert verbatim(capsys, "registry", "promote", FULL, *where).code == 0
    assert (registry.root / "champion").read_text() == f"{FULL}\n"
    assert verbatim(capsys, "registry", "rollback", *where).out.startswith(f"champion: {FULL} -> {HEADS}")
    assert registry.champion() == HEADS
    assert verbatim(capsys, "registry", "rollback", *where).out.startswith(f"champion: {HEADS} -> {tiny}")
    failed = verbatim(capsys, "registry", "rollback", *where)
    assert (failed.code, failed.out, failed.err.count("\n")) == (2, "", 1)
    assert "no earlier champion" in failed.err and registry.champion() == tiny
    events = [(e["action"], e["version"], e["previous"]) for e in registry.history()]
    assert events == [("promote", HEADS, tiny), ("promote", FULL, HEADS), ("rollback", HEADS, FULL),
                      ("rollback", tiny, HEADS)]
    assert sorted(p.name for p in registry.root.iterdir() if p.name.startswith(".") and p.is_file()) == [
        ".promote.lock"], "no temp file left behind"


def test_rollback_undoes_a_promotion_made_without_the_cli(registry: Registry,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    tiny = registry.champion()
    registry.promote(FULL)  # as a retrain does
    (registry.root / "champion").write_text(f"{HEADS}\n")  # and a pointer set by hand, without a record
    assert champion_stack(registry.history()) == [tiny, FULL]
    assert verbatim(capsys, "registry", "rollback", "--registry", str(registry.root)).out.startswith(
        f"champion: {HEADS} -> {FULL}")


def test_errors_are_one_line_and_exit_2(registry: Registry, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    where = ("--registry", str(registry.root))
    for argv in (("show", "v9", *where), ("promote", "v9", *where), ("list", "--registry", str(tmp_path / "empty"))):
        result = verbatim(capsys, "registry", *argv)
        assert (result.code, result.out, result.err.count("\n")) == (2, "", 1), argv
        assert result.err.startswith("verbatim: error: ") and "Traceback" not in result.err
    assert "'v9'" in verbatim(capsys, "registry", "promote", "v9", *where).err
    champion = registry.champion()
    (registry.path(FULL) / META_FILE).unlink()
    assert verbatim(capsys, "registry", "promote", FULL, *where).code == 2
    assert registry.champion() == champion, "a version without artifact.json is not promoted"
    listed = verbatim(capsys, "registry", "list", *where)
    assert listed.code == 0 and [line.split()[:2] for line in listed.out.splitlines() if FULL in line] == [
        [FULL, "broken"]]


def test_registry_path_comes_from_the_environment(registry: Registry, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VERBATIM_REGISTRY", str(registry.root))
    assert verbatim(capsys, "registry", "promote", HEADS).code == 0
    assert registry.champion() == HEADS


def test_concurrent_promotions_are_all_recorded(registry: Registry) -> None:
    versions = [HEADS, FULL] * 10

    def promote(version: str) -> None:
        Registry(registry.root).promote(version)

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = registry.history()
    assert len(history) == len(versions)
    assert all(later["previous"] == earlier["version"] for earlier, later in zip(history, history[1:]))
    assert history[-1]["version"] == registry.champion()


def test_a_running_server_reloader_serves_the_rolled_back_champion(registry: Registry,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    tiny = registry.champion()
    slot = ModelSlot()
    reloader = Reloader(slot, registry=registry, load=Predictor.load)

    async def serving_after(*argv: str) -> str:
        assert verbatim(capsys, "registry", *argv, "--registry", str(registry.root)).code == 0
        await reloader.poll_once()  # what the server's poll does every VERBATIM_RELOAD_S
        return slot.current().version

    async def scenario() -> list[str]:
        try:
            await reloader.poll_once()
            return [slot.current().version, await serving_after("promote", HEADS), await serving_after("rollback")]
        finally:
            await reloader.close()

    assert asyncio.run(scenario()) == [tiny, HEADS, tiny]


def test_debug_raises_the_error_with_its_traceback(registry: Registry) -> None:
    parser = argparse.ArgumentParser(prog="verbatim")
    cli_registry.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["registry", "show", "v9", "--registry", str(registry.root)])
    args.debug = True  # what `verbatim --debug` sets
    with pytest.raises(RegistryError, match="'v9'"):
        args.func(args)


def test_the_verbatim_command_runs_it(registry: Registry, capsys: pytest.CaptureFixture[str]) -> None:
    from verbatim.cli import main

    assert main(["registry", "promote", HEADS, "--registry", str(registry.root)]) == 0
    assert registry.champion() == HEADS
    assert main(["registry", "rollback", "--registry", str(registry.root)]) == 0
    assert registry.champion() != HEADS
    assert main(["registry", "show", "v9", "--registry", str(registry.root)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
