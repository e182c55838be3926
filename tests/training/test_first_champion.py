"""Replicas starting together on an empty registry: one trains the first champion, the others wait for it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from verbatim.models.registry import Registry, RegistryError, new_version
from verbatim.training.first_champion import ensure_champion
from verbatim.training.lock import RetrainLock
from verbatim.training.retrain import LOCK_FILE


class CountingTrainer:
    """A stand-in for train_default_model: slow enough that the replicas overlap, and counted."""

    def __init__(self, seconds: float = 0.5) -> None:
        self.seconds, self.calls, self._lock = seconds, 0, threading.Lock()

    def __call__(self, registry: Registry) -> str:
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        version = new_version()
        with registry.stage(version) as staging:
            (staging / "artifact.json").write_text("{}")
        registry.promote(version)
        return version


def test_two_replicas_on_an_empty_registry_train_once_and_serve_the_same_champion(tmp_path: Path) -> None:
    registry, train = Registry(tmp_path / "registry"), CountingTrainer()
    lines: list[str] = []
    with ThreadPoolExecutor(2) as pool:
        champions = list(pool.map(lambda _: ensure_champion(registry, train, poll_s=0.05, say=lines.append),
                                  range(2)))
    assert train.calls == 1
    assert champions[0] == champions[1] == registry.champion()
    assert registry.versions() == [registry.champion()]
    assert any("waiting" in line for line in lines)
    assert not (registry.root / LOCK_FILE).exists()


def test_a_running_retrain_is_waited_for_and_its_champion_served(tmp_path: Path) -> None:
    registry, train = Registry(tmp_path / "registry"), CountingTrainer(0)
    registry.root.mkdir(parents=True)
    with ThreadPoolExecutor(1) as pool:
        with RetrainLock(registry.root / LOCK_FILE):
            waiting = pool.submit(ensure_champion, registry, train, poll_s=0.05, say=lambda _: None)
            time.sleep(0.2)
            assert not waiting.done()
            promoted = CountingTrainer(0)(registry)  # the retrain promotes, then lets go of the lock
        assert waiting.result(timeout=10) == promoted
    assert train.calls == 0


def test_a_champion_already_there_is_served_without_the_lock(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
    version = CountingTrainer(0)(registry)
    train = CountingTrainer(0)
    with RetrainLock(registry.root / LOCK_FILE):  # even while a retrain runs
        assert ensure_champion(registry, train, say=lambda _: None) == version
    assert train.calls == 0


def test_training_that_promotes_nothing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="promoted no champion"):
        ensure_champion(Registry(tmp_path / "registry"), lambda registry: None, say=lambda _: None)
