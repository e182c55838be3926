"""Live model reload: a champion promoted while the server runs is loaded beside the old
model and swapped in; requests already in flight finish on the old one; a broken artifact
is logged once and skipped while the old model keeps serving."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from verbatim.models.artifact import HEADS_FILE, META_FILE
from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry, new_version
from verbatim.service.server import run
from verbatim.store import LATEST_VERSION, Store
from tests.service.harness import (Harness, RecordingPredictor, classify, comment, config, health_of, serving,
                                   wait_until)
from verbatim.v1 import verbatim_pb2 as pb

RELOAD_LOGGER = "verbatim.service.reload"


@pytest.fixture()
def registry(tiny_registry: Registry, tmp_path: Path) -> Registry:
    """A private copy of the tiny registry, so promotions here do not leak into other tests."""
    shutil.copytree(tiny_registry.root, tmp_path / "registry")
    return Registry(tmp_path / "registry")


@pytest.fixture()
def store(tmp_path: Path, tiny_predictor: Predictor) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        # The store agrees with the artifact, so the server keeps the very predictor handed to it.
        opened.put_tags("acme", list(tiny_predictor.taxonomy("acme").tags))
        yield opened


def add_version(registry: Registry, breaks: Callable[[Path], None] | None = None) -> str:
    """A new registry version: a copy of the tiny model under a new name, optionally broken."""
    source = registry.path(min(registry.versions()))  # the tiny model: the copies' names sort after it
    version = new_version(uuid.uuid4().hex)
    with registry.stage(version) as staging:
        shutil.copytree(source, staging, dirs_exist_ok=True)
        meta = json.loads((staging / META_FILE).read_text())
        (staging / META_FILE).write_text(json.dumps(meta | {"version": version}))
        if breaks is not None:
            breaks(staging)
    return version


def truncate_heads(directory: Path) -> None:
    heads = directory / HEADS_FILE
    heads.write_bytes(heads.read_bytes()[:100])


def corrupt_meta(directory: Path) -> None:
    (directory / META_FILE).write_text("{not json")


def version_of(h: Harness) -> str:
    return h.stub.ClassifyComments(classify(comment("1", "The Slack app crashes")), timeout=10).model_version


def reload_errors(caplog: pytest.LogCaptureFixture, version: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records
            if r.name == RELOAD_LOGGER and r.levelno == logging.ERROR and version in r.getMessage()]


def test_a_promoted_champion_is_served_without_a_restart(tiny_predictor: Predictor, registry: Registry,
                                                         store: Store) -> None:
    with serving(tiny_predictor, {"store": store, "registry": registry, "load": load_predictor},
                 reload_s=0.1) as h:
        h.stub.PutTags(pb.PutTagsRequest(account_id="globex", tags=[pb.Tag(name="Staplers", keywords=["stapler"])]),
                       timeout=10)
        assert version_of(h) == tiny_predictor.version
        new = add_version(registry)
        registry.promote(new)
        wait_until(lambda: version_of(h) == new, timeout=20)
        assert h.stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10).version == new
        assert h.server.reloader.champion == new
        # The new model serves the live taxonomies too, custom accounts included.
        response = h.stub.ClassifyComments(classify(comment("1", "my stapler"), account="globex"), timeout=10)
        assert response.model_version == new and [t.name for t in response.comments[0].tags] == ["Staplers"]
        assert health_of(h) == health_pb2.HealthCheckResponse.SERVING


def test_requests_in_flight_during_the_swap_finish_on_the_old_model(tiny_predictor: Predictor, registry: Registry,
                                                                    store: Store) -> None:
    old = RecordingPredictor(tiny_predictor, delay=0.8)
    with serving(old, {"store": store, "registry": registry, "load": load_predictor}, reload_s=0,
                 max_batch_comments=1) as h:
        assert h.server.slot.current() is old
        computing = h.stub.ClassifyComments.future(classify(comment("a", "computing when the swap happens")),
                                                   timeout=30)
        assert old.started.wait(10)
        queued = h.stub.ClassifyComments.future(classify(comment("b", "queued when the swap happens")), timeout=30)
        wait_until(lambda: h.server.batcher.depth == 1)

        new = add_version(registry)
        registry.promote(new)
        assert h.call(h.server.reloader.load_champion())
        assert h.server.slot.current() is not old and h.server.slot.current().version == new

        after = h.stub.ClassifyComments(classify(comment("c", "sent after the swap")), timeout=30)
        assert after.model_version == new
        assert computing.result().model_version == old.version == tiny_predictor.version
        assert queued.result().model_version == old.version
        assert old.decided == ["computing when the swap happens", "queued when the swap happens"]


@pytest.mark.parametrize("breaks", [truncate_heads, corrupt_meta], ids=["truncated heads", "bad artifact.json"])
def test_a_broken_champion_is_logged_once_and_skipped(tiny_predictor: Predictor, registry: Registry, store: Store,
                                                      caplog: pytest.LogCaptureFixture,
                                                      breaks: Callable[[Path], None]) -> None:
    caplog.set_level(logging.INFO, logger=RELOAD_LOGGER)
    with serving(tiny_predictor, {"store": store, "registry": registry, "load": load_predictor}, reload_s=0) as h:
        broken = add_version(registry, breaks)
        registry.promote(broken)
        for _ in range(3):
            h.call(h.server.reloader.poll_once())
        assert len(reload_errors(caplog, broken)) == 1
        assert f"still serving {tiny_predictor.version}" in reload_errors(caplog, broken)[0].getMessage()
        assert version_of(h) == tiny_predictor.version
        assert health_of(h) == health_pb2.HealthCheckResponse.SERVING

        # The pointer moves on to a good version: it is served.
        good = add_version(registry)
        registry.promote(good)
        h.call(h.server.reloader.poll_once())
        assert version_of(h) == good

        # And back to the broken one: a new attempt, logged once more, and the good one stays.
        registry.promote(broken)
        for _ in range(2):
            h.call(h.server.reloader.poll_once())
        assert len(reload_errors(caplog, broken)) == 2
        assert version_of(h) == good
        assert health_of(h) == health_pb2.HealthCheckResponse.SERVING


def test_a_champion_pointer_to_a_missing_version_is_skipped(tiny_predictor: Predictor, registry: Registry,
                                                           store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=RELOAD_LOGGER)
    with serving(tiny_predictor, {"store": store, "registry": registry, "load": load_predictor}, reload_s=0.05) as h:
        registry.champion_file.write_text("v-gone\n")  # e.g. a hand edit, or a version deleted by mistake
        wait_until(lambda: len(reload_errors(caplog, "v-gone")) == 1, timeout=10)
        h.call(h.server.reloader.poll_once())
        assert len(reload_errors(caplog, "v-gone")) == 1
        assert version_of(h) == tiny_predictor.version


def test_a_model_that_loads_but_cannot_run_is_refused(tiny_predictor: Predictor, registry: Registry, store: Store,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    def load_broken(directory: Path) -> Predictor:
        return RecordingPredictor(load_predictor(directory), fail=True)

    caplog.set_level(logging.INFO, logger=RELOAD_LOGGER)
    with serving(tiny_predictor, {"store": store, "registry": registry, "load": load_broken}, reload_s=0) as h:
        new = add_version(registry)
        registry.promote(new)
        assert not h.call(h.server.reloader.load_champion())
        assert len(reload_errors(caplog, new)) == 1  # the warm-up pass failed before it could serve
        assert version_of(h) == tiny_predictor.version


def test_without_a_store_a_new_champion_serves_its_own_taxonomies(tiny_predictor: Predictor,
                                                                  registry: Registry) -> None:
    with serving(tiny_predictor, {"registry": registry, "load": load_predictor}, reload_s=0) as h:
        new = add_version(registry)
        registry.promote(new)
        h.call(h.server.reloader.poll_once())
        assert version_of(h) == new
        assert h.server.slot.current().accounts == ["acme", "default"]


# ---------------------------------------------------------------- start-up through run()


def test_run_refuses_a_store_with_a_newer_schema(registry: Registry, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    Store(url).close()
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE schema_version SET version = ?", (LATEST_VERSION + 1,))
    assert asyncio.run(run(config(registry=registry.root, store_url=url), load_predictor)) == 1
    assert "cannot open the store" in caplog.text and "upgrade verbatim" in caplog.text


def test_run_stops_when_the_champion_cannot_be_loaded(registry: Registry, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    broken = add_version(registry, truncate_heads)
    registry.promote(broken)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert asyncio.run(run(config(registry=registry.root, store_url=url), load_predictor)) == 1
    assert f"cannot load model {broken}" in caplog.text and "no model to serve" in caplog.text
