"""Where training runs: the device, and under torchrun this process's rank and the process group.

`torchrun --nproc_per_node=N -m verbatim.training train|retrain` starts N copies of the job with
RANK, WORLD_SIZE and LOCAL_RANK set. Every rank trains on its share of each batch in
DistributedDataParallel (gloo on CPU, nccl on GPU), which averages the gradients; rank 0 alone
decides, saves and promotes, and tells the others through `broadcast`. One process without
torchrun is world size 1, where every collective here is a no-op and training runs as it always did.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from verbatim.models.device import DEFAULT_DEVICE, resolve_device

T = TypeVar("T")
# Ranks other than 0 wait at a broadcast while rank 0 evaluates, saves and warms the cache,
# minutes on a large account; a dead rank is noticed at once (its sockets close), not after this.
TIMEOUT = timedelta(hours=3)


class DistributedError(ValueError):
    """A torchrun environment or setting that distributed training cannot use; names the fix."""


class Terminated(BaseException):
    """SIGTERM, raised so the job unwinds: its failure report is written and rank 0's lock released.

    torchrun sends it to every surviving rank when one rank dies.
    """


@dataclass(frozen=True)
class Runtime:
    """The device and this process's place among torchrun's; the default is one CPU process."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0
    world_size: int = 1
    local_world_size: int = 1

    def __post_init__(self) -> None:
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise DistributedError(f"RANK {self.rank} must be in [0, WORLD_SIZE {self.world_size})")

    @classmethod
    def start(cls, device: str = DEFAULT_DEVICE, env: Mapping[str, str] | None = None) -> Runtime:
        """Resolve `device` and, under torchrun, join the process group. Raises DeviceError or DistributedError."""
        env = os.environ if env is None else env
        try:
            world, rank = int(env.get("WORLD_SIZE", "1")), int(env.get("RANK", "0"))
            local_rank, local_world = int(env.get("LOCAL_RANK", "0")), int(env.get("LOCAL_WORLD_SIZE", "1"))
        except ValueError as exc:
            raise DistributedError(f"torchrun's RANK/WORLD_SIZE/LOCAL_RANK must be integers: {exc}") from None
        if world == 1:
            return cls(resolve_device(device), 0, 1, 1)
        resolved = resolve_device(device, local_rank)
        runtime = cls(resolved, rank, world, max(1, local_world))
        if not dist.is_initialized():
            if resolved.type == "cuda":
                torch.cuda.set_device(resolved)
            dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo", timeout=TIMEOUT)
        signal.signal(signal.SIGTERM, _terminate)
        return runtime

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def threads(self, configured: int) -> int:
        """torch threads for this process: `configured`, or (0) the cores shared by this node's ranks."""
        return configured or max(1, (os.cpu_count() or 1) // self.local_world_size)

    def per_rank_batch(self, batch_size: int) -> int:
        """Each rank's share of a global batch; refuses one the ranks cannot share evenly."""
        if batch_size % self.world_size:
            raise DistributedError(f"batch size {batch_size} is not divisible by the {self.world_size} processes: "
                                   f"the global batch is split evenly across them; pick a multiple of "
                                   f"{self.world_size} or another --nproc_per_node")
        return batch_size // self.world_size

    def shard(self, items: Sequence[T]) -> list[T]:
        """This rank's slice of `items` (every world_size-th, from its rank): the ranks' slices partition them."""
        return list(items[self.rank::self.world_size])

    def wrap(self, net: nn.Module) -> nn.Module:
        """`net` as DistributedDataParallel, or itself in one process.

        find_unused_parameters: BERT's pooler is part of the encoder but never in the loss.
        """
        if not self.distributed:
            return net
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(net, device_ids=ids, find_unused_parameters=True)

    def broadcast(self, value: T | None) -> T:
        """Rank 0's `value` on every rank (the others pass None)."""
        if not self.distributed:
            return value  # type: ignore[return-value]
        box: list[Any] = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: T) -> list[T]:
        """Every rank's `value`, in rank order, on rank 0; an empty list elsewhere."""
        if not self.distributed:
            return [value]
        box: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(value, box, dst=0)
        return list(box) if box is not None else []

    def barrier(self) -> None:
        """Wait until every rank is here; fails if one has died."""
        if self.distributed:
            dist.barrier(device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def close(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()


def _terminate(signum: int, frame: FrameType | None) -> None:
    if sys.exc_info()[0] is not None:
        # Already failing (a dead rank's broken collective, say) and writing its failure report:
        # let that finish; torchrun kills a process that does not exit in time anyway.
        return
    raise Terminated(f"signal {signum}: another rank failed or the job was stopped")


LOCAL = Runtime()  # one process on the CPU: how training ran before devices and torchrun
