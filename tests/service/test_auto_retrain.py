"""The server's own quick retrain: after N new corrections (and on a schedule), one job at a
time, corrections during a run counted toward the next, and the result served without a restart."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from verbatim.models.artifact import Artifact
from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import Tag
from verbatim.service.auto_retrain import AutoRetrain, quick_retrain_argv
from verbatim.store import Store
from tests.service.harness import serving
from verbatim.v1 import verbatim_pb2 as pb

# Appends its argv tail and whether it got the store URL, then takes a moment, like a job.
FAKE_JOB = ("import os, sys, time; time.sleep(float(sys.argv[2])); "
            "open(sys.argv[1], 'a').write(os.environ.get('VERBATIM_STORE_URL', '-') + '\\n')")


def fake(tmp_path: Path, seconds: float = 0.0, **settings: float) -> tuple[AutoRetrain, Path]:
    marks = tmp_path / "runs.txt"
    retrain = AutoRetrain([sys.executable, "-c", FAKE_JOB, str(marks), str(seconds)],
                          {"VERBATIM_STORE_URL": "sqlite:///secret.db"}, tmp_path / "log" / "auto.log", **settings)
    return retrain, marks


def test_a_run_starts_once_enough_corrections_arrived_and_later_ones_chain(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        retrain, marks = fake(tmp_path, seconds=0.5, after_corrections=3)
        retrain.corrections_stored(2)
        assert not retrain.running and retrain.pending == 2
        retrain.corrections_stored(0)  # duplicates only: nothing new
        retrain.corrections_stored(1)
        assert retrain.running and retrain.pending == 0
        retrain.corrections_stored(5)  # during the run: the next run's
        assert retrain.pending == 5
        await retrain.wait_idle()
        first = list(retrain.runs)
        retrain.corrections_stored(1)  # not enough for a third
        await asyncio.sleep(0.2)
        return first, retrain.runs

    first, runs = asyncio.run(scenario())
    assert first == [0, 0] and runs == [0, 0]
    assert (tmp_path / "runs.txt").read_text().splitlines() == ["sqlite:///secret.db"] * 2


def test_off_by_default_and_a_schedule_runs_without_corrections(tmp_path: Path) -> None:
    assert not AutoRetrain(["true"], {}, tmp_path / "log").enabled

    async def scenario() -> list[int]:
        retrain, _ = fake(tmp_path, every_s=0.1)
        retrain.start()
        retrain.corrections_stored(100)  # counting is off: only the schedule starts runs
        await asyncio.sleep(1.0)
        await retrain.stop(grace_s=5)
        return retrain.runs

    assert len(asyncio.run(scenario())) >= 2


def test_stop_terminates_a_running_job(tmp_path: Path) -> None:
    async def scenario() -> list[int]:
        retrain, _ = fake(tmp_path, seconds=60, after_corrections=1)
        retrain.corrections_stored(1)
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await retrain.stop(grace_s=5)
        assert time.monotonic() - started < 5
        return retrain.runs

    assert asyncio.run(scenario()) == [-15]  # SIGTERM


def test_nothing_starts_once_stopping_and_an_unwritable_log_is_reported(tmp_path: Path) -> None:
    async def scenario() -> tuple[bool, list[int], list[int]]:
        retrain, _ = fake(tmp_path, after_corrections=1)
        await retrain.stop(grace_s=1)
        retrain.corrections_stored(5)  # arrives during the server's drain
        started = retrain.running
        blocked = AutoRetrain(["true"], {}, tmp_path / "file" / "auto.log", after_corrections=1)
        (tmp_path / "file").write_text("a file where the log folder should be")
        blocked.corrections_stored(1)
        await blocked.wait_idle()
        return started, retrain.runs, blocked.runs

    started, runs, blocked = asyncio.run(scenario())
    assert not started and runs == []
    assert blocked == [-1]


def test_the_store_url_never_appears_on_the_command_line(tmp_path: Path) -> None:
    argv = quick_retrain_argv(tmp_path / "registry")
    assert argv[1:] == ["-m", "verbatim.training", "retrain", "--heads-only", "--registry",
                        str(tmp_path / "registry")]


@pytest.fixture()
def registry(tiny_registry: Registry, tmp_path: Path) -> Registry:
    shutil.copytree(tiny_registry.root, tmp_path / "registry")
    return Registry(tmp_path / "registry")


@pytest.fixture()
def store(tmp_path: Path, tiny_predictor: Predictor) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        opened.put_tags("acme", list(tiny_predictor.taxonomy("acme").tags))
        yield opened


def test_a_new_account_is_learned_and_served_after_n_corrections(tiny_predictor: Predictor, registry: Registry,
                                                                   store: Store) -> None:
    store.put_tags("zoo", [Tag("Birds"), Tag("Fish")])
    stamp = Timestamp()
    stamp.GetCurrentTime()
    texts = {"Birds": ["parrot feather sparrow chirp", "nest wing beak bird", "sparrow chirp nest wing"],
             "Fish": ["salmon reef gill trout", "aquarium fin scales fish", "trout gill fin reef"]}
    corrections = [pb.Correction(correction_id=f"{tag}-{i}", account_id="zoo", comment_id=f"{tag}-{i}", text=text,
                                 tag=tag, action=pb.CORRECTION_ACTION_ADD, actor="test", time=stamp)
                   for tag, group in texts.items() for i, text in enumerate(group)]
    settings = {"store_url": store.url, "registry": registry.root, "retrain_after": 6, "reload_s": 0.2}
    with serving(tiny_predictor, {"store": store, "registry": registry, "load": load_predictor}, **settings) as h:
        h.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=corrections[:5]), timeout=10)
        time.sleep(1.0)
        assert not h.server.auto_retrain.running and h.server.auto_retrain.runs == []  # 5 of 6
        h.stub.SubmitCorrections(pb.SubmitCorrectionsRequest(corrections=corrections[5:]), timeout=10)
        deadline = time.monotonic() + 240
        while h.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10).version == tiny_predictor.version:
            assert time.monotonic() < deadline, (registry.root / "reports" / "auto_retrain.log").read_text()
            time.sleep(0.2)
        info = h.stub.GetModelInfo(pb.GetModelInfoRequest(account_id="zoo"), timeout=10)
        h.call(h.server.auto_retrain.wait_idle(), timeout=120)  # it still writes its reports
    assert [a.account_id for a in info.accounts] == ["zoo"] and [t.name for t in info.accounts[0].tags] == \
        ["Birds", "Fish"]
    assert Artifact.load(registry.path(info.version)).meta.training_config["mode"] == "heads-only"
    assert h.server.auto_retrain.runs == [0]
