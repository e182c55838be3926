"""What tests/training/test_distributed.py runs under torchrun: `verbatim retrain`'s rank logic
(rank 0 retrains, the others follow) on the tiny random-weight encoder instead of MiniLM.

Usage: torchrun --nproc_per_node=N ranked_retrain.py STORE_URL REGISTRY MODE [DIE_AT]
MODE is `full` or `heads-only`; DIE_AT "RANK:STEP" makes that rank os._exit(17) right after
its STEP-th optimiser step (counted from 1), as a rank killed mid-epoch would vanish.
Exit codes: the retrain's own (0 promoted or nothing new, 3 rejected), 1 on a failure.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from verbatim.models.encoder import tiny_random_encoder
from verbatim.models.registry import Registry
from verbatim.store import Store
from verbatim.training.config import TrainingConfig
from verbatim.training.distributed import Runtime
from verbatim.training.holdout import HoldoutConfig
from verbatim.training.precision import Precision
from verbatim.training.retrain import RetrainConfig, retrain
from verbatim.training.retrain_ranks import follow

# The settings of tests/training/test_retrain.py's CONFIG, so its fixtures' data fits.
TINY = TrainingConfig(epochs=6, batch_size=16, encoder_lr=1e-3, head_lr=1e-2, max_length=32, threads=1)
CONFIG = RetrainConfig(include_seed=False, encoder_factory=tiny_random_encoder, frozen_layers=None, training=TINY,
                       holdout=HoldoutConfig(min_heldout=1), force=True)


def die_at(rank: int, step: int) -> None:
    """Make this process vanish after its `step`-th optimiser step."""
    real_step = Precision.step
    taken = [0]

    def step_then_maybe_die(self: Precision, *args: object, **kwargs: object) -> None:
        real_step(self, *args, **kwargs)  # type: ignore[arg-type]
        taken[0] += 1
        if taken[0] == step:
            print(f"rank {rank}: dying after step {step}", file=sys.stderr, flush=True)
            os._exit(17)
    Precision.step = step_then_maybe_die  # type: ignore[method-assign]


def main(store_url: str, registry: str, mode: str, die: str | None = None) -> int:
    runtime = Runtime.start("cpu")
    if die is not None:
        rank, _, step = die.partition(":")
        if int(rank) == runtime.rank:
            die_at(runtime.rank, int(step))
    config = replace(CONFIG, heads_only=mode == "heads-only")
    try:
        if not runtime.is_main:
            follow(config.encoder_factory, runtime)
            return 0
        with Store(store_url) as store:
            report = retrain(store, Registry(Path(registry)), config, progress=False, runtime=runtime)
        print(json.dumps(report.to_json()))
        return report.exit_code
    finally:
        runtime.close()


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
