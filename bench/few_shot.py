"""Where the few-shot gap comes from: learners on frozen embeddings, side by side, in-process.

For each data set (SemEval-2014 restaurants, BANKING77) and each sampling seed, the same
k-examples-per-tag samples as `verbatim bench corrections` train every method, and each is
measured on the same 20 % split (micro-F1; on BANKING77, one tag per query, that is accuracy):

- `probe_a<alpha>`: the linear probe (bench.logreg) on an encoder whose weights are
  alpha x the champion's + (1 - alpha) x the original all-MiniLM-L6-v2's (0: the original,
  1: the champion's own);
- `heads_a<alpha>_<learner>`: the quick path's heads (training.heads_only) on that encoder's
  embeddings, trained by each learner (adam as before, lbfgs), decided by the served
  Predictor code (thresholds, keyword rules, the account's tag count);
- `heads_chosen_lbfgs` (with alphas 0 and 1): the quick path as `verbatim retrain --heads-only`
  runs it, reading the account from whichever encoder cross-validation on the sample picks
  (training.encoder_choice);
- the default account's seed test with heads refitted on each encoder (thresholds tuned on
  seed dev), theme micro-F1 and sentiment accuracy, beside the champion as served.

    python -m verbatim.bench.few_shot --registry var/registry [--seeds 3] [--alphas 0,0.5,1] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from verbatim.bench.data_dir import BANKING_FILE, SEMEVAL_FILE, data_dir
from verbatim.bench.datasets import BenchDataset, banking_dataset, cumulative_samples, restaurants_dataset
from verbatim.bench.logreg import embed_texts, probe_predictions
from verbatim.models.artifact import Artifact
from verbatim.models.encoder import load_base_encoder
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.predictor import Predictor
from verbatim.models.registry import Registry, registry_path
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Taxonomy
from verbatim.training.corpus import Record, seed_split
from verbatim.training.evaluate import theme_report
from verbatim.training.embedding_lookup import lookup_artifact
from verbatim.training.heads_only import EmbeddingCache, HeadsConfig, train_heads, tune_heads
from verbatim.training.interpolation import interpolate

Vectors = dict[str, np.ndarray]
STEPS = (8, 16, 64)


def interpolated(champion: Artifact, alpha: float) -> Artifact:
    """The champion with encoder weights alpha * fine-tuned + (1 - alpha) * original (WiSE-FT)."""
    base, _ = load_base_encoder()
    encoder = copy.deepcopy(champion.net.encoder)
    interpolate(encoder, base, alpha)
    net = ThemeSentimentNet(encoder, num_labels=len(champion.meta.labels))
    net.load_state_dict({**champion.net.state_dict(), **{f"encoder.{k}": v for k, v in encoder.state_dict().items()}})
    return Artifact(meta=champion.meta, net=net.eval(), tokenizer=champion.tokenizer)


def _heads(champion: Artifact, account: str, taxonomy: Taxonomy, sample: Sequence[Record], test: Sequence[Record],
           vectors: Vectors, config: HeadsConfig, original: Vectors | None = None) -> list[set[str]]:
    """The quick path's heads on `vectors`, decided as the server decides; with `original` (the
    original encoder's vectors), each account on the encoder its cross-validation picks."""
    return [set(p.tag_names) for p in _heads_predictions(champion, account, taxonomy, sample, test, vectors, config,
                                                          original=original)]


def _heads_predictions(champion: Artifact, account: str, taxonomy: Taxonomy, sample: Sequence[Record],
                       test: Sequence[Record], vectors: Vectors, config: HeadsConfig,
                       dev: Sequence[Record] = (), original: Vectors | None = None) -> list:
    def rows(records: Sequence[Record], table: Vectors | None) -> np.ndarray | None:
        return np.stack([table[r.text] for r in records]) if table is not None and records else None

    artifact = train_heads(champion, sample, dev, rows(sample, vectors), {account: taxonomy}, config, "study",
                           original_embeddings=rows(sample, original))
    if dev:
        tune_heads(artifact, dev, rows(dev, vectors), rows(dev, original))
    served = Predictor(lookup_artifact(artifact, [r.text for r in test], rows(test, vectors), rows(test, original)))
    return served.predict([r.text for r in test], account)


def _embed(artifact: Artifact, texts: Sequence[str]) -> Vectors:
    with tempfile.TemporaryDirectory() as tmp:
        return dict(zip(texts, EmbeddingCache(Path(tmp), artifact).embed(list(texts))))


def run(champion_dir: Path, datasets: Sequence[BenchDataset], seeds: Sequence[int], steps: Sequence[int],
        learners: dict[str, HeadsConfig], alphas: Sequence[float] = (0.0, 1.0),
        max_test: int | None = None) -> list[dict]:
    """One row per (data set, k, method) with the micro-F1 of every seed, and the default
    account's seed-test micro-F1 with heads refitted on each encoder."""
    from tqdm import tqdm

    champion = Artifact.load(champion_dir)
    encoders = {f"a{alpha:.2f}": interpolated(champion, alpha) for alpha in alphas}
    seed = {split: seed_split(split, DEFAULT_TAXONOMY) for split in ("train", "dev", "test")}
    rows: list[dict] = []
    served = Predictor(champion).predict([r.text for r in seed["test"]], DEFAULT_ACCOUNT)
    rows.append(_row("default_seed_test", "all", "champion_as_served",
                     [_f1(seed["test"], [set(p.tag_names) for p in served], DEFAULT_TAXONOMY.names)]))
    rows.append(_row("default_sentiment", "all", "champion_as_served", [_accuracy(seed["test"], served)]))
    seed_texts = sorted({r.text for split in seed.values() for r in split})
    for name, artifact in tqdm(encoders.items(), desc="default account", file=sys.stderr):
        vectors = _embed(artifact, seed_texts)
        for learner, config in learners.items():
            predicted = _heads_predictions(champion, DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, seed["train"], seed["test"],
                                           vectors, config, seed["dev"])
            rows.append(_row("default_seed_test", "all", f"heads_{name}_{learner}",
                             [_f1(seed["test"], [set(p.tag_names) for p in predicted], DEFAULT_TAXONOMY.names)]))
            rows.append(_row("default_sentiment", "all", f"heads_{name}_{learner}",
                             [_accuracy(seed["test"], predicted)]))
    for dataset in datasets:
        test = dataset.test[:max_test] if max_test else dataset.test
        samples = {s: cumulative_samples(dataset.train, steps, s) for s in seeds}
        texts = sorted({r.text for s in samples.values() for r in s[-1]} | {r.text for r in test})
        vectors = {name: _embed(artifact, texts) for name, artifact in encoders.items()}
        methods: dict[str, Callable[[Sequence[Record]], list[set[str]]]] = {}
        for name, v in vectors.items():
            methods[f"probe_{name}"] = lambda s, v=v: probe_predictions(s, test, v, dataset.taxonomy.names)
            for learner, config in learners.items():
                methods[f"heads_{name}_{learner}"] = (
                    lambda s, v=v, c=config: _heads(champion, dataset.account, dataset.taxonomy, s, test, v, c))
        if {"a0.00", "a1.00"} <= set(vectors):  # the quick path as served: the encoder each sample's folds pick
            methods["heads_chosen_lbfgs"] = lambda s: _heads(champion, dataset.account, dataset.taxonomy, s, test,
                                                             vectors["a1.00"], LEARNERS["lbfgs"], vectors["a0.00"])
        scores: dict[tuple[int, str], list[float]] = defaultdict(list)
        with tqdm(total=len(seeds) * len(steps) * len(methods), desc=dataset.name, unit="fit", file=sys.stderr) as bar:
            for s in seeds:
                for k, sample in zip(steps, samples[s], strict=True):
                    for name, method in methods.items():
                        scores[(k, name)].append(_f1(test, method(sample), dataset.taxonomy.names))
                        bar.update()
        rows += [_row(dataset.name, k, name, values) for (k, name), values in scores.items()]
    return rows


def _f1(test: Sequence[Record], predicted: list[set[str]], tags: Sequence[str]) -> float:
    return theme_report([set(r.tags) for r in test], predicted, tags)["micro_f1"]


def _accuracy(test: Sequence[Record], predicted: list) -> float:
    """Sentiment accuracy over the comments that have a gold sentiment."""
    pairs = [(r.sentiment, p.sentiment.label) for r, p in zip(test, predicted, strict=True) if r.sentiment]
    return sum(gold == label for gold, label in pairs) / len(pairs)


def _row(dataset: str, k: int | str, method: str, values: list[float]) -> dict:
    return {"dataset": dataset, "examples_per_tag": k, "method": method, "micro_f1": values,
            "mean": round(statistics.mean(values), 4),
            "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0}


def format_table(rows: Sequence[dict]) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    keys = list(dict.fromkeys((r["dataset"], r["examples_per_tag"]) for r in rows))
    cell = {(r["dataset"], r["examples_per_tag"], r["method"]): r for r in rows}
    width = max(len(m) for m in methods) + 2
    lines = [f"{'method':<{width}}" + "".join(f"{d[:8]} k={k:<4}     " for d, k in keys)]
    for method in methods:
        lines.append(f"{method:<{width}}" + "".join(
            f"{cell[(d, k, method)]['mean']:.3f}±{cell[(d, k, method)]['sd']:.3f}   " if (d, k, method) in cell
            else f"{'-':<14}   " for d, k in keys))
    return "\n".join(lines)


LEARNERS: dict[str, HeadsConfig] = {
    "adam": HeadsConfig(solver="adam"),  # the quick path as it was
    "lbfgs": HeadsConfig(solver="lbfgs"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verbatim.bench.few_shot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", help="registry whose champion to study (default var/registry)")
    parser.add_argument("--data-dir", type=Path, help="folder of the public data sets (default ../shared/data)")
    parser.add_argument("--seeds", type=int, default=3, help="samplings of the k examples per tag")
    parser.add_argument("--steps", default=",".join(map(str, STEPS)), help="examples per tag")
    parser.add_argument("--alphas", default="0,1", help="encoders to compare: weight of the champion's fine-tuned "
                                                      "encoder against the original (0: original, 1: champion)")
    parser.add_argument("--max-test", type=int, help="measure on at most this many test comments per data set")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    registry = Registry(registry_path(args.registry))
    champion = registry.champion_path()
    if champion is None:
        parser.error(f"no champion in {registry.root}: run `verbatim train` first")
    folder = data_dir(args.data_dir)
    datasets = [restaurants_dataset(folder / SEMEVAL_FILE), banking_dataset(folder / BANKING_FILE)]
    rows = run(champion, datasets, range(13, 13 + args.seeds), [int(k) for k in args.steps.split(",")], LEARNERS,
               [float(a) for a in args.alphas.split(",")], args.max_test)
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
