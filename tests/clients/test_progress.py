"""Progress on stderr: tqdm when it is installed, else a plain counter; nothing when not asked."""

from __future__ import annotations

import sys

import pytest

from verbatim_client.progress import progress


def test_without_tqdm_a_counter_is_rewritten_in_place(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `from tqdm import tqdm` now raises ImportError
    shown = progress(5, "classified", enabled=True)
    shown.update(2)
    shown.update(3)
    shown.close()
    assert capsys.readouterr().err == "\rclassified 0/5\rclassified 2/5\rclassified 5/5\n"


def test_with_tqdm_a_bar(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    shown = progress(4, "submitted", enabled=True, unit="corrections")
    shown.update(4)
    shown.close()
    err = capsys.readouterr().err
    assert "submitted: 100%" in err and "4/4" in err and "corrections/s" in err


def test_nothing_when_not_asked(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    shown = progress(5, "classified", enabled=False)
    shown.update(5)
    shown.close()
    assert capsys.readouterr() == ("", "")
