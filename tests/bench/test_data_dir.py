"""The public data folder: flag, then environment, then ../shared/data from the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.bench.corrections import add_arguments, config_from_args
from verbatim.bench.data_dir import data_dir


def test_flag_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VERBATIM_DATA_DIR", raising=False)
    assert data_dir() == Path("../shared/data")
    monkeypatch.setenv("VERBATIM_DATA_DIR", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "flag") == tmp_path / "flag"


def test_bench_corrections_reads_both_data_sets_from_the_data_dir(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args(["--data-dir", str(tmp_path)]), tmp_path / "registry")
    assert (config.semeval, config.banking) == (tmp_path / "semeval14_restaurants_train.xml",
                                                tmp_path / "banking77_train.csv")
    own = config_from_args(parser.parse_args(["--data-dir", str(tmp_path), "--data", "x.xml", "--no-banking"]),
                           tmp_path / "registry")
    assert (own.semeval, own.banking) == (Path("x.xml"), None)
