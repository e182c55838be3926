"""A corrupt or partial artifact made champion: the server refuses it, the old champion keeps
serving, and both a log line and verbatim_model_load_failures_total say so."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from verbatim.models.artifact import HEADS_FILE, META_FILE
from verbatim.models.loading import load_predictor
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry
from tests.service.harness import health_of, serving
from tests.service.scrape import parse, scrape_text, value
from tests.service.test_reload import RELOAD_LOGGER, add_version, version_of


def half_of_the_heads(directory: Path) -> None:
    heads = directory / HEADS_FILE
    heads.write_bytes(heads.read_bytes()[: heads.stat().st_size // 2])


def no_artifact_json(directory: Path) -> None:
    (directory / META_FILE).unlink()


def garbage_everywhere(directory: Path) -> None:
    for path in directory.rglob("*"):
        if path.is_file():
            path.write_bytes(b"\x00garbage")


@pytest.mark.parametrize("breaks", [half_of_the_heads, no_artifact_json, garbage_everywhere],
                         ids=["partial heads", "missing artifact.json", "every file garbage"])
def test_a_broken_champion_is_refused_counted_and_logged(tiny_predictor: Predictor, tiny_registry: Registry,
                                                         tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                         breaks: Callable[[Path], None]) -> None:
    shutil.copytree(tiny_registry.root, tmp_path / "registry")
    registry = Registry(tmp_path / "registry")
    caplog.set_level(logging.INFO, logger=RELOAD_LOGGER)
    with serving(tiny_predictor, {"registry": registry, "load": load_predictor}, reload_s=0) as h:
        failures = "verbatim_model_load_failures_total"
        assert value(parse(scrape_text(h.server.metrics_port)), failures) == 0
        broken = add_version(registry, breaks)
        registry.promote(broken)
        for _ in range(3):  # refused once, then skipped until the pointer moves
            h.call(h.server.reloader.poll_once())
        assert version_of(h) == tiny_predictor.version
        assert health_of(h) == health_pb2.HealthCheckResponse.SERVING
        assert value(parse(scrape_text(h.server.metrics_port)), failures) == 1
        lines = [r.getMessage() for r in caplog.records if r.name == RELOAD_LOGGER and r.levelno >= logging.ERROR]
        assert len(lines) == 1 and broken in lines[0] and f"still serving {tiny_predictor.version}" in lines[0]
