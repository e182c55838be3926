from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("onnxruntime")

from verbatim.models.registry import Registry  # noqa: E402
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY  # noqa: E402
from verbatim.training.corpus import Record  # noqa: E402
from verbatim.bench.parity import _artifact_dir, _summary, backend_parity, main  # noqa: E402

COMMENTS = [
    ("The Slack integration keeps crashing", {"Slack", "Bug"}, "negative"),
    ("Support answered within minutes, great team", {"Support"}, "positive"),
    ("Way too expensive for what it does", {"Price"}, "negative"),
    ("Please add a dark mode", {"Feature request"}, "neutral"),
    ("fine", set(), "neutral"),
    ("Salesforce sync works perfectly and the docs explain every field in the mapping", {"Salesforce"}, "positive"),
]


@pytest.fixture(scope="module")
def model_dir(tiny_registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A copy, so the ONNX cache written beside it stays out of the session-wide registry.
    champion = tiny_registry.champion_path()
    assert champion is not None
    return Path(shutil.copytree(champion, tmp_path_factory.mktemp("parity") / "model"))


def _records() -> list[Record]:
    return [Record(id=f"c{i}", text=text, tags=frozenset(DEFAULT_TAXONOMY.close(tags)), sentiment=sentiment,
                   account=DEFAULT_ACCOUNT)
            for i, (text, tags, sentiment) in enumerate(COMMENTS)]


def test_parity_report_compares_quality_decisions_probabilities_and_speed(model_dir: Path) -> None:
    records = _records()
    report = backend_parity(model_dir, records, repeats=2, batch_size=4)
    assert report["comments"] == len(records)
    for key in ("theme_micro_f1", "sentiment_accuracy"):
        figures = report[key]
        assert set(figures) == {"torch", "onnx", "diff", "within_tolerance"}
        assert 0.0 <= figures["torch"] <= 1.0 and 0.0 <= figures["onnx"] <= 1.0
        assert figures["diff"] == pytest.approx(figures["onnx"] - figures["torch"], abs=1e-4)
        assert figures["within_tolerance"] == (abs(figures["diff"]) <= report["tolerance"])
    for key in ("tag_set_disagreement", "sentiment_disagreement"):
        assert 0.0 <= report[key] <= 1.0
    assert report["tag_set_disagreement"] == pytest.approx(len(report["tag_disagreements"]) / len(records), abs=1e-4)
    assert report["sentiment_disagreement"] == pytest.approx(
        len(report["sentiment_disagreements"]) / len(records), abs=1e-4)
    for part in ("themes", "sentiment"):
        diff = report["probability_abs_diff"][part]
        assert 0.0 < diff["mean"] <= diff["max"] < 0.05, "int8 must differ a little from torch, not a lot"
    batching = report["batch_vs_alone"]
    assert batching["torch"]["max_abs_prob_diff"] < 1e-4 and batching["torch"]["tag_set_changes"] == 0.0
    assert 0.0 <= batching["onnx"]["tag_set_changes"] <= 1.0
    speed = report["throughput"]
    assert set(speed["comments_per_s"]) == {"torch", "onnx"}
    assert all(len(runs) == 2 and min(runs) > 0 for runs in speed["runs"].values())
    assert speed["comments_per_run"] == len(records)
    assert all(spread >= 0 for spread in speed["spread"].values())
    assert speed["onnx_over_torch"] == pytest.approx(
        speed["comments_per_s"]["onnx"] / speed["comments_per_s"]["torch"], rel=0.02)
    assert (model_dir / "onnx").is_dir()


def test_parity_refuses_no_records(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="at least one record"):
        backend_parity(model_dir, [])


def test_main_prints_json(model_dir: Path, tiny_registry: Registry, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("verbatim.bench.parity.seed_split", lambda split, taxonomy: _records())
    assert main(["--model-dir", str(model_dir), "--json", "--repeats", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model_version"] == tiny_registry.champion()
    assert report["throughput"]["repeats"] == 1
    assert len(report["throughput"]["runs"]["onnx"]) == 1
    summary = _summary(report)
    for fragment in ("theme micro-F1", "sentiment accuracy", "tag set differs", "batched vs alone", "onnx/torch"):
        assert fragment in summary


def test_a_registry_root_means_its_champion(tiny_registry: Registry) -> None:
    assert _artifact_dir(tiny_registry.root) == tiny_registry.champion_path()
    champion = tiny_registry.champion_path()
    assert champion is not None and _artifact_dir(champion) == champion
