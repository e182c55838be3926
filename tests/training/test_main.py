"""`python -m verbatim.training retrain` and `verbatim retrain`: flags, exit codes and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from verbatim.training.__main__ import main
from verbatim.training.lock import RetrainLock
from verbatim.training.retrain import LOCK_FILE
from verbatim.training.retrain_report import Decision, GateCheck, RetrainReport


def args(tmp_path: Path, *extra: str) -> list[str]:
    return ["retrain", "--registry", str(tmp_path / "registry"),
            "--store-url", f"sqlite:///{tmp_path / 'db.sqlite'}", *extra]


@pytest.mark.parametrize("extra, flag", [(("--margin", "1.5"), "--margin"), (("--margin", "-0.1"), "--margin"),
                                         (("--epochs", "0"), "--epochs"),
                                         (("--heads-only", "--epochs", "0"), "--epochs")])
def test_bad_settings_exit_2_naming_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture, extra: tuple,
                                            flag: str) -> None:
    assert main(args(tmp_path, *extra)) == 2
    assert flag in capsys.readouterr().err


def test_an_unusable_store_url_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["retrain", "--registry", str(tmp_path), "--store-url", "mysql://nowhere/db"]) == 2
    assert "--store-url" in capsys.readouterr().err


def test_heads_only_without_a_champion_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(args(tmp_path, "--heads-only")) == 2
    err = capsys.readouterr().err
    assert "--heads-only needs a champion" in err and "has no champion" in err


def test_a_held_lock_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with RetrainLock(tmp_path / "registry" / LOCK_FILE):
        assert main(args(tmp_path)) == 4
    assert "another retrain" in capsys.readouterr().err


def test_a_rejected_challenger_exits_3_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    check = GateCheck("acme", "micro_f1", 0.5, 0.8, 0.01, 40)
    report = RetrainReport(decision=Decision.REJECTED, reasons=["rejected: worse on acme micro_f1", check.explain()],
                           mode="full", champion_before="v1", champion_after="v1", challenger="v2",
                           data_fingerprint="f", margin=0.01, gate=[check])
    seen = {}

    def fake(store: object, registry: object, config: object, progress: bool = True,
             runtime: object = None) -> RetrainReport:
        seen["config"] = config
        return report
    monkeypatch.setattr("verbatim.training.retrain.retrain", fake)
    assert main(args(tmp_path, "--margin", "0.05", "--epochs", "2")) == 3
    out = capsys.readouterr().out
    assert "rejected v2" in out and "acme: micro_f1 0.5000 vs champion 0.8000" in out and "WORSE" in out
    assert seen["config"].margin == 0.05 and seen["config"].training.epochs == 2


def test_verbatim_retrain_delegates_to_the_same_job(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from verbatim.cli import main as verbatim_main

    assert verbatim_main(args(tmp_path, "--margin", "7")) == 2
    assert "--margin" in capsys.readouterr().err


def test_an_unreachable_store_is_named_without_its_password(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # Port 1 on loopback refuses at once: the connection fails after the URL was parsed.
    url = "postgresql+psycopg://verbatim:s3cr3t-pw@127.0.0.1:1/verbatim"
    assert main(["retrain", "--registry", str(tmp_path), "--store-url", url]) == 2
    err = capsys.readouterr().err
    assert "s3cr3t-pw" not in err
    assert "verbatim:***@127.0.0.1:1/verbatim" in err
