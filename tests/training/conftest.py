"""Fixtures of the retrain tests: a registry whose champion learnt a `toy` account, copied per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from verbatim.models.registry import Registry
from verbatim.models.taxonomy import Tag
from verbatim.store import Store
from verbatim.training.retrain import retrain

from tests.training.retrain_setup import CONFIG, Setup, labelled, submit


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_registry: Registry) -> tuple[Path, object]:
    """A registry whose champion learnt the `toy` account from corrections, and the first report."""
    root = tmp_path_factory.mktemp("trained")
    shutil.copytree(tiny_registry.root, root / "registry")
    with Store(f"sqlite:///{root / 'store' / 'db.sqlite'}") as store:
        store.put_tags("toy", [Tag("Cats"), Tag("Dogs")])
        submit(store, labelled("toy", ("Cats", "Dogs"), 40))
        report = retrain(store, Registry(root / "registry"), CONFIG, progress=False)
    return root, report


@pytest.fixture
def setup(trained: tuple[Path, object], tmp_path: Path) -> Setup:
    shutil.copytree(trained[0], tmp_path / "copy")
    return Setup(Registry(tmp_path / "copy" / "registry"), f"sqlite:///{tmp_path / 'copy' / 'store' / 'db.sqlite'}")
