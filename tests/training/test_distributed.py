"""torchrun on the tiny random-weight encoder: two gloo processes on the CPU.

Each job runs tests/training/ranked_retrain.py, which is `verbatim retrain`'s rank logic
(training.retrain on rank 0, training.retrain_ranks.follow elsewhere) with the tiny encoder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.training.ranked_retrain import CONFIG
from tests.training.retrain_setup import labelled, submit
from verbatim.models.artifact import Artifact
from verbatim.models.registry import Registry
from verbatim.models.taxonomy import Tag
from verbatim.store import Store
from verbatim.training.distributed import DistributedError, Runtime
from verbatim.training.embedding_cache import encode_texts, encoder_version
from verbatim.training.lock import RetrainLock
from verbatim.training.retrain import LOCK_FILE, retrain
from verbatim.training.retrain_report import Decision

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("ranked_retrain.py")
# The toy account's held-out micro-F1 of two processes against one: the same global batches and
# gradients, but each rank draws its own dropout masks, so the weights differ a little.
F1_TOLERANCE = 0.1


@dataclass
class Job:
    root: Path

    @property
    def registry(self) -> Registry:
        return Registry(self.root / "registry")

    @property
    def store_url(self) -> str:
        return f"sqlite:///{self.root / 'store' / 'db.sqlite'}"

    def copy(self, to: Path) -> Job:
        shutil.copytree(self.root, to)
        return Job(to)

    def torchrun(self, mode: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """The job on two ranks; torchrun's own failure report goes to stderr."""
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                   "--max-restarts=0", str(SCRIPT), self.store_url, str(self.registry.root), mode, *extra]
        return subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=REPO, env=env)

    def reports(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted((self.registry.root / "reports").glob("*.json"))]


@pytest.fixture(scope="module")
def start(tmp_path_factory: pytest.TempPathFactory, tiny_registry: Registry) -> Job:
    """The tiny champion, and a store with a new account it has never seen."""
    root = tmp_path_factory.mktemp("start")
    shutil.copytree(tiny_registry.root, root / "registry")
    job = Job(root)
    with Store(job.store_url) as store:
        store.put_tags("toy", [Tag("Cats"), Tag("Dogs")])
        submit(store, labelled("toy", ("Cats", "Dogs"), 40))
    return job


@pytest.fixture(scope="module")
def two_ranks(start: Job, tmp_path_factory: pytest.TempPathFactory) -> tuple[Job, subprocess.CompletedProcess[str]]:
    job = start.copy(tmp_path_factory.mktemp("two") / "job")
    return job, job.torchrun("full")


def test_two_ranks_promote_exactly_one_artifact_as_good_as_one_process(
        start: Job, two_ranks: tuple[Job, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    job, result = two_ranks
    assert result.returncode == 0, result.stderr[-3000:]
    before = start.registry.versions()
    [new] = sorted(set(job.registry.versions()) - set(before))  # exactly one artifact written
    assert job.registry.champion() == new != start.registry.champion()
    [report] = job.reports()  # by rank 0 alone
    assert report["decision"] == "promoted" and report["challenger"] == new
    assert not (job.registry.root / LOCK_FILE).exists()
    assert Artifact.load(job.registry.path(new)).meta.training_config["world_size"] == 2

    single = start.copy(tmp_path / "single")
    with Store(single.store_url) as store:
        alone = retrain(store, single.registry, CONFIG, progress=False)
    assert alone.decision is Decision.PROMOTED
    f1 = {name: r["evaluation"]["toy"]["challenger"]["themes"]["micro_f1"]
          for name, r in (("two", report), ("one", alone.to_json()))}
    assert f1["one"] >= 0.8 and abs(f1["two"] - f1["one"]) <= F1_TOLERANCE, f1


def test_heads_only_embeds_across_ranks_into_one_cache(two_ranks: tuple[Job, subprocess.CompletedProcess[str]],
                                                       tmp_path: Path) -> None:
    job = two_ranks[0].copy(tmp_path / "job")
    champion = Artifact.load(job.registry.champion_path())
    (job.registry.root / "cache").mkdir(exist_ok=True)
    for leftover in (job.registry.root / "cache").glob("*.npz"):
        leftover.unlink()  # nothing cached: every text is embedded by the two ranks
    with Store(job.store_url) as store:
        store.put_tags("zoo", [Tag("Birds"), Tag("Fish")])
        submit(store, labelled("zoo", ("Birds", "Fish"), 8, seed=3))
    result = job.torchrun("heads-only")
    assert result.returncode == 0, result.stderr[-3000:]
    report = job.reports()[-1]
    texts = sorted({r.text for r in (*labelled("toy", ("Cats", "Dogs"), 40), *labelled("zoo", ("Birds", "Fish"), 8, 3))})
    assert report["mode"] == "heads-only" and report["dataset"]["texts_embedded"] == len(texts)
    with np.load(job.registry.root / "cache" / f"{encoder_version(champion.meta)}.npz") as cache:
        cached = dict(zip(cache["keys"].tolist(), cache["vectors"]))
    assert len(cached) == len(texts)
    # Rank 1 embedded every other text; each row must be that text's own embedding, in one process.
    alone = encode_texts(champion, texts)
    assert np.allclose(np.stack(sorted(cached.values(), key=lambda v: v.tobytes())),
                       np.stack(sorted(alone, key=lambda v: v.tobytes())), atol=1e-5)


def test_a_rank_killed_mid_epoch_fails_the_job_and_changes_nothing(start: Job, tmp_path: Path) -> None:
    job = start.copy(tmp_path / "job")
    champion, versions = job.registry.champion(), job.registry.versions()
    result = job.torchrun("full", "1:3")
    assert result.returncode != 0
    assert "rank 1: dying after step 3" in result.stderr
    assert job.registry.champion() == champion and job.registry.versions() == versions
    assert list(job.registry.staging_dir.iterdir()) == []
    assert not (job.registry.root / LOCK_FILE).exists()  # rank 0 released it on its way out
    [report] = job.reports()
    assert report["decision"] == "failed" and report["champion_after"] == champion
    with RetrainLock(job.registry.root / LOCK_FILE):  # and the next run can take it
        pass


def test_the_global_batch_must_split_evenly_across_ranks() -> None:
    runtime = Runtime(rank=1, world_size=3)
    assert runtime.per_rank_batch(12) == 4
    with pytest.raises(DistributedError, match="batch size 16 is not divisible by the 3 processes"):
        runtime.per_rank_batch(16)
    assert Runtime().per_rank_batch(7) == 7


def test_ranks_shard_a_sequence_into_a_partition() -> None:
    items = list(range(11))
    shards = [Runtime(rank=r, world_size=3).shard(items) for r in range(3)]
    assert sorted(x for shard in shards for x in shard) == items
    assert [len(s) for s in shards] == [4, 4, 3]


def test_a_torchrun_environment_that_is_not_numbers_is_refused() -> None:
    with pytest.raises(DistributedError, match="must be integers"):
        Runtime.start("cpu", env={"WORLD_SIZE": "two"})
    with pytest.raises(DistributedError, match="RANK 2"):
        Runtime(rank=2, world_size=2)


def test_one_process_runtime_is_the_cpu_without_a_process_group() -> None:
    runtime = Runtime.start("cpu", env={})
    assert runtime == Runtime() and not runtime.distributed and runtime.device == torch.device("cpu")
    assert runtime.broadcast("x") == "x" and runtime.gather(3) == [3]
