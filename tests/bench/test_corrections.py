"""`verbatim bench corrections`: data, samples, and runs on the tiny model through a real server.

The CLI test runs the real path: `verbatim serve` and `python -m verbatim.training retrain` as
subprocesses, on the tiny registry (the retrain takes its encoder from the tiny champion).
Only the logistic-regression baseline's encoder is swapped for the tiny one.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.bench.corrections import (KEYWORDS, METHODS, PROBE, VERBATIM, CorrectionsBenchConfig, RetrainJob,
                                        RetrainOutcome, _targets, format_table, run, summarize)
from verbatim.bench.datasets import (banking_taxonomy, cumulative_samples, load_banking77, parse_steps,
                                     restaurants_dataset)
from verbatim.training.corpus import CorpusError
from verbatim.training.evaluate import keyword_baseline
from verbatim.training.heads_only import HeadsConfig
from verbatim.training.retrain import RetrainConfig, retrain
from verbatim.cli import main

SENTENCES = {
    "food": ["The pasta was delicious", "Best sushi in town", "The steak was overcooked", "Bland soup, cold bread",
             "Great dessert menu", "The pizza crust was perfect", "Fresh fish every day", "Tasty appetizers"],
    "service": ["Our waiter was rude", "The staff were attentive", "We waited an hour to be seated",
                "Friendly hostess", "Service was slow", "The manager apologized", "Polite servers",
                "Nobody refilled our water"],
    "price": ["Way too expensive", "Prices are fair", "Cheap and cheerful", "Overpriced for what you get",
              "Great value", "The bill was a shock", "Affordable lunch specials", "Costs more than it should"],
    "ambience": ["Lovely atmosphere", "Too noisy to talk", "Cozy and romantic", "The decor is dated",
                 "Loud music all night", "Nice lighting", "Crowded on weekends", "Beautiful interior"],
    "anecdotes/miscellaneous": ["We came for my birthday", "I have been coming for years", "A friend recommended it",
                                "We will be back", "Parking is hard to find", "Open late on Fridays",
                                "It is near the station", "Reservations recommended"],
}
INTENTS = {
    "card_arrival": ["Where is my card", "My card has not arrived", "When will my new card come",
                     "Card still not delivered", "How long does card delivery take", "Still waiting for my card"],
    "exchange_rate": ["What is the exchange rate", "How do you set the rate", "Is the exchange rate fair",
                      "Which rate do you use for euros", "Current dollar rate", "Rate for pounds"],
    "change_pin": ["How do I change my PIN", "I want a new pin", "Change pin at an ATM", "Can I reset my PIN",
                   "Update my pin code", "Pin change please"],
    "terminate_account": ["Close my account", "I want to terminate my account", "Delete my account please",
                          "How do I cancel my account", "Terminate everything", "Shut down my account"],
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small SemEval-format XML (every fifth sentence also about price) and a BANKING77-format CSV."""
    root = tmp_path_factory.mktemp("bench-data")
    lines, number = ['<?xml version="1.0" encoding="UTF-8"?>', "<sentences>"], 0
    for category, texts in SENTENCES.items():
        for text in texts:
            number += 1
            extra = '<aspectCategory category="price" polarity="negative"/>' if number % 5 == 0 and \
                category != "price" else ""
            lines.append(f'<sentence id="{number}"><text>{text}.</text><aspectCategories><aspectCategory '
                         f'category="{category}" polarity="positive"/>{extra}</aspectCategories></sentence>')
    (root / "semeval.xml").write_text("\n".join([*lines, "</sentences>"]))
    rows = ["text,category"] + [f'"{t}",{intent}' for intent, texts in INTENTS.items() for t in texts]
    (root / "banking.csv").write_text("\n".join(rows) + "\n")
    return root / "semeval.xml", root / "banking.csv"


def snapshot(registry: Registry) -> tuple[str | None, list[str], dict[str, int]]:
    files = {str(p.relative_to(registry.root)): p.stat().st_mtime_ns for p in registry.root.rglob("*") if p.is_file()}
    return registry.champion(), registry.versions(), files


def our_servers() -> list[int]:
    """Live `verbatim serve` processes whose parent is this test process."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), None)
        state = next((line.split()[1] for line in status.splitlines() if line.startswith("State:")), "")
        if ppid == os.getpid() and b"serve" in cmdline and b"verbatim.cli" in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


def test_parse_steps() -> None:
    assert parse_steps("8,16,64,all") == (8, 16, 64, None)
    assert parse_steps(" 2 ") == (2,)
    for bad in ("8,4", "all,8", "0", "eight", "", "8,all,all"):
        with pytest.raises(ValueError):
            parse_steps(bad)


def test_samples_are_cumulative_and_give_every_tag_k_examples(data: tuple[Path, Path]) -> None:
    records = restaurants_dataset(data[0]).train
    samples = cumulative_samples(records, (1, 3, None), seed=5)
    assert samples == cumulative_samples(records, (1, 3, None), seed=5)  # seeded
    ids = [{r.id for r in s} for s in samples]
    assert ids[0] < ids[1] < ids[2] == {r.id for r in records}
    for k, sample in zip((1, 3), samples[:2], strict=True):
        for tag in {t for r in records for t in r.tags}:
            available = sum(tag in r.tags for r in records)
            assert sum(tag in r.tags for r in sample) >= min(k, available), (k, tag)
    assert len(samples[0]) < len(records) / 2  # a sample, not everything


def test_split_is_80_20_and_fixed_by_the_seed(data: tuple[Path, Path]) -> None:
    a, b = restaurants_dataset(data[0], seed=1), restaurants_dataset(data[0], seed=1)
    assert [r.id for r in a.test] == [r.id for r in b.test]
    assert len(a.train) == 32 and len(a.test) == 8 and not {r.id for r in a.train} & {r.id for r in a.test}
    assert [r.id for r in restaurants_dataset(data[0], seed=2).test] != [r.id for r in a.test]
    assert a.taxonomy.names == ["food", "service", "price", "ambience", "misc"]
    assert not a.taxonomy.get("misc").keywords and "pizza" in a.taxonomy.get("food").keywords


def test_banking_csv_and_keywords_from_intent_names(data: tuple[Path, Path], tmp_path: Path) -> None:
    records = load_banking77(data[1])
    assert len(records) == 24 and all(len(r.tags) == 1 for r in records)
    taxonomy = banking_taxonomy(["card_arrival", "card_linking", "Refund_not_showing_up"])
    assert taxonomy.get("card_arrival").keywords == ("card arrival", "arrival")  # "card" is shared: no rule
    assert taxonomy.get("Refund_not_showing_up").keywords == ("refund not showing up", "refund", "showing")
    (tmp_path / "bad.csv").write_text("sentence,label\nhi,there\n")
    with pytest.raises(CorpusError, match="text,category"):
        load_banking77(tmp_path / "bad.csv")


def fast_in_process_retrain(job: RetrainJob) -> RetrainOutcome:
    """The real retrain job in this process, heads-only without the seed corpus, with a gate that
    lets the tiny model through, so the promoted path (reload, new version served) is exercised."""
    started = time.perf_counter()
    config = RetrainConfig(heads_only=True, include_seed=False, margin=0.99, heads=HeadsConfig(epochs=2))
    with Store(job.store_url) as store:
        report = retrain(store, Registry(job.registry), config, progress=False)
    return RetrainOutcome(report.decision.value, report.challenger, report.champion_after,
                          time.perf_counter() - started)


def test_promoted_models_are_served_and_measured(tiny_registry: Registry, data: tuple[Path, Path]) -> None:
    before = snapshot(tiny_registry)
    config = CorrectionsBenchConfig.quick(tiny_registry.root, semeval=data[0], banking=data[1])
    report = run(config, retrain=fast_in_process_retrain, encoder_factory=tiny_random_encoder, progress=False)
    rows = report["rows"]
    keys = [(r["dataset"], r["examples_per_tag"], r["method"]) for r in rows]
    assert keys == [(d, k, m) for d, ks in (("semeval14_restaurants", (2, 4)), ("banking77", (2,)))
                    for k in ks for m in METHODS]
    ours = [r for r in rows if r["method"] == VERBATIM]
    assert all(r["retrain_decision"] == "promoted" for r in ours)
    versions = [r["model_version"] for r in ours]
    assert len(set(versions)) == 3 and tiny_registry.champion() not in versions  # each step's new champion served
    semeval = [r for r in ours if r["dataset"] == "semeval14_restaurants"]
    assert semeval[0]["examples"] < semeval[1]["examples"] and semeval[0]["corrections"] < semeval[1]["corrections"]
    assert [d["dataset"] for d in report["default_account"]] == ["semeval14_restaurants", "banking77"]
    assert snapshot(tiny_registry) == before  # only a copy was trained and promoted
    assert our_servers() == []
    table = format_table(report)
    assert "semeval14_restaurants" in table and "banking77" in table and "retrain mode: full" in table


def test_each_seed_samples_its_own_examples_and_the_summary_is_their_mean(tiny_registry: Registry,
                                                                         data: tuple[Path, Path]) -> None:
    config = CorrectionsBenchConfig.quick(tiny_registry.root, semeval=data[0], banking=None, steps=(2,), seeds=2)
    report = run(config, retrain=fast_in_process_retrain, encoder_factory=tiny_random_encoder, progress=False)
    ours = [r for r in report["rows"] if r["method"] == VERBATIM]
    assert [r["seed"] for r in ours] == [13, 14]
    assert [d["seed"] for d in report["default_account"]] == [13, 14]
    (summary,) = [s for s in report["summary"] if s["method"] == VERBATIM]
    f1 = [r["micro_f1"] for r in ours]
    assert summary["seeds"] == 2 and summary["micro_f1_mean"] == pytest.approx((f1[0] + f1[1]) / 2, abs=1e-4)
    assert summary["micro_f1_sd"] == pytest.approx(abs(f1[0] - f1[1]) / 2 ** 0.5, abs=1e-4)
    samples = cumulative_samples(restaurants_dataset(data[0]).train, (2,), 13), \
        cumulative_samples(restaurants_dataset(data[0]).train, (2,), 14)
    assert {r.id for r in samples[0][0]} != {r.id for r in samples[1][0]}  # two samplings, not one twice


def test_the_server_stops_and_the_work_dir_goes_when_a_step_fails(tiny_registry: Registry, data: tuple[Path, Path],
                                                                   tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(job: RetrainJob) -> RetrainOutcome:
        assert our_servers(), "the server runs while the retrain does"
        raise RuntimeError("retrain exploded")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    config = CorrectionsBenchConfig.quick(tiny_registry.root, semeval=data[0], banking=None)
    with pytest.raises(RuntimeError, match="exploded"):
        run(config, retrain=broken, encoder_factory=tiny_random_encoder, progress=False)
    assert our_servers() == []
    assert not list(tmp_path.glob("verbatim-bench-corrections-*"))


def test_cli_json_through_real_server_and_retrain_subprocesses(tiny_registry: Registry, data: tuple[Path, Path],
                                                               capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("verbatim.models.encoder.load_base_encoder", tiny_random_encoder)  # the logreg baseline only
    before = snapshot(tiny_registry)
    code = main(["bench", "corrections", "--quick", "--json", "--heads-only", "--steps", "2", "--no-banking",
                 "--registry", str(tiny_registry.root), "--data", str(data[0])])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["rows"]
    assert [(r["dataset"], r["examples_per_tag"], r["method"]) for r in rows] == \
        [("semeval14_restaurants", 2, m) for m in METHODS]
    for row in rows:
        assert 0 <= row["micro_f1"] <= 1 and row["retrain_seconds"] >= 0 and row["examples"] > 0, row
        assert row["test_comments"] == 8
    ours = next(r for r in rows if r["method"] == VERBATIM)
    assert ours["retrain_decision"] in ("promoted", "rejected") and ours["retrain_mode"] == "heads-only"
    assert ours["retrain_seconds"] >= ours["retrain_durations_s"]["total"] > 0 and ours["retrain_reasons"]
    # The fresh account as served is its keyword rules alone: the same figure as models.rules.
    dataset = restaurants_dataset(data[0])
    served = next(r for r in rows if r["method"] == KEYWORDS)["micro_f1"]
    assert served == keyword_baseline(dataset.test, dataset.taxonomy)["micro_f1"]
    assert next(r for r in rows if r["method"] == PROBE)["retrain_seconds"] > 0
    assert report["default_account"][0]["micro_f1_before"] > 0
    assert set(report["targets"]) and report["config"]["heads_only"] is True
    assert snapshot(tiny_registry) == before
    assert our_servers() == []


def test_cli_refuses_bad_steps(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "corrections", "--steps", "16,8"])
    assert "increasing" in capsys.readouterr().err


def test_table_gives_mean_and_sd_side_by_side_and_says_why_a_step_was_not_promoted() -> None:
    common = {"dataset": "semeval14_restaurants", "examples_per_tag": 8, "examples": 30, "corrections": 43,
              "test_comments": 608}
    rows = [common | {"seed": seed, "method": VERBATIM, "micro_f1": f1, "retrain_seconds": seconds,
                      "retrain_decision": decision, "retrain_mode": "heads-only", "retrain_reasons": reasons}
            for seed, f1, seconds, decision, reasons in (
                (13, 0.60, 10.0, "rejected", ["rejected: worse than the champion on restaurants micro_f1"]),
                (14, 0.64, 12.0, "promoted", ["promoted"]), (15, 0.62, 30.0, "promoted", ["promoted"]))]
    rows += [common | {"seed": seed, "method": KEYWORDS, "micro_f1": 0.5974, "retrain_seconds": 0.0}
             for seed in (13, 14, 15)]
    rows += [common | {"seed": seed, "method": PROBE, "micro_f1": f1, "retrain_seconds": 0.45}
             for seed, f1 in ((13, 0.58), (14, 0.60), (15, 0.62))]
    rows.sort(key=lambda r: r["seed"])
    default = [{"dataset": "semeval14_restaurants", "seed": 13, "seed_test_comments": 350,
                "micro_f1_before": 0.7871, "micro_f1_after": 0.7771, "drop": 0.01}]
    summary = summarize(rows)
    report = {"rows": rows, "summary": summary, "default_account": default,
              "targets": _targets(summary, default, heads_only=True)}
    lines = format_table(report).splitlines()
    # mean 0.62, sd 0.02 for both; the retrain time is the median of 10, 12 and 30 s
    assert lines[1].split() == ["semeval14_restaurants", "8", "30", "3", "0.620±0.020", "0.597", "0.600±0.020",
                                "12.0"]
    assert "semeval14_restaurants k=8 seed 13: rejected: rejected: worse than the champion on restaurants " \
           "micro_f1" in lines
    assert any("0.787 before, 0.777 after" in line for line in lines)
    assert any("semeval14_restaurants_heads_only>=probe_every_k yes" in line and "default_drop<=0.01 yes" in line
               and "full_retrain_all<=900s -" in line for line in lines)


def test_targets_compare_the_full_path_with_the_probe_plus_three_points() -> None:
    summary = [{"dataset": d, "examples_per_tag": 16, "method": m, "micro_f1_mean": f1, "retrain_seconds_median": 1}
               for d, m, f1 in (("a", VERBATIM, 0.74), ("a", PROBE, 0.70), ("b", VERBATIM, 0.72), ("b", PROBE, 0.70))]
    checks = _targets(summary, [], heads_only=False)
    assert (checks["a_full>=probe+0.03_at_16"], checks["b_full>=probe+0.03_at_16"]) == (True, False)
    assert checks["default_drop<=0.01"] is None


def test_either_data_set_can_be_skipped(tmp_path: Path) -> None:
    import argparse

    from verbatim.bench.corrections import add_arguments, config_from_args
    from verbatim.bench.data_dir import BANKING_FILE, SEMEVAL_FILE

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    config = config_from_args(parser.parse_args(["--no-semeval", "--data-dir", str(tmp_path)]), tmp_path)
    assert config.semeval is None and config.banking == tmp_path / BANKING_FILE
    config = config_from_args(parser.parse_args(["--no-banking", "--data-dir", str(tmp_path)]), tmp_path)
    assert config.banking is None and config.semeval == tmp_path / SEMEVAL_FILE
