"""The first champion of an empty registry, trained once however many replicas start on it at once.

Replicas that share a registry volume and start together would each train the default model
(minutes of CPU apiece) and race to promote. Instead each takes the retrain lock
(training.lock.RetrainLock on `<registry>/retrain.lock`): the one that gets it trains, unless a
champion appeared meanwhile; the others wait, polling, until it releases the lock, and then
serve the champion it promoted. A retrain that holds the lock is waited for the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from verbatim.models.registry import Registry, RegistryError
from verbatim.training.lock import RETRAIN_LOCK_FILE as LOCK_FILE
from verbatim.training.lock import LockBusy, RetrainLock

POLL_S = 2.0


def ensure_champion(registry: Registry, train: Callable[[Registry], object], *, poll_s: float = POLL_S,
                    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> str:
    """The registry's champion; trained by `train(registry)` first if there is none and no one else is
    training it. Waits while another process holds the lock. Raises RegistryError if `train` promoted
    nothing."""
    waiting = False
    while True:
        champion = registry.champion()
        if champion is not None:
            return champion
        try:
            with RetrainLock(registry.root / LOCK_FILE):
                if registry.champion() is None:  # whoever held the lock before may have promoted one
                    say(f"no champion in {registry.root}: training the default model first (takes minutes)")
                    train(registry)
        except LockBusy as exc:
            if not waiting:
                say(f"no champion in {registry.root} yet; waiting for the process training it ({exc}); "
                    f"if that process is gone for good, delete {registry.root / LOCK_FILE}")
                waiting = True
            time.sleep(poll_s)
            continue
        champion = registry.champion()
        if champion is None:
            raise RegistryError(f"training promoted no champion into {registry.root}")
        return champion
