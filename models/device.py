"""Which device runs a model: the names `auto`, `cpu`, `cuda` and `cuda:N`, checked and resolved.

`check_device` only reads the name (no torch import), so the service's config can validate
VERBATIM_DEVICE before loading a model runtime; `resolve_device` then asks torch whether the
device is really there and fails with one line that says how to fix it when it is not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICES = "auto, cpu, cuda or cuda:N"
DEFAULT_DEVICE = "auto"  # CUDA when there is a GPU, else the CPU
_NAME = re.compile(r"auto|cpu|cuda(:\d+)?")


class DeviceError(ValueError):
    """A device name that is malformed, or names a device this machine does not have."""


def check_device(name: str) -> str:
    """`name` normalised (stripped, lower case) if it is one of auto, cpu, cuda, cuda:N; DeviceError otherwise."""
    normal = name.strip().lower()
    if not _NAME.fullmatch(normal):
        raise DeviceError(f"device must be {DEVICES}, got {name!r}")
    return normal


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    """The torch device for `name`. `auto` is CUDA when torch sees a GPU, else the CPU.

    `local_rank`: under torchrun, the process's LOCAL_RANK; `cuda` and `auto` then mean that
    process's own GPU, and an explicit `cuda:N` is refused, since every process would share it.
    Raises DeviceError, with the fix, for a CUDA device this machine or torch build lacks.
    """
    import torch

    normal = check_device(name)
    if normal == "cpu" or (normal == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        why = ("this torch build has no CUDA support" if torch.version.cuda is None
               else "torch sees no GPU (no driver, or CUDA_VISIBLE_DEVICES hides them)")
        raise DeviceError(f"device {name!r}: CUDA is not available, {why}; use --device cpu (or auto), "
                          f"or install a CUDA build of torch on a machine with an NVIDIA GPU")
    count = torch.cuda.device_count()
    if local_rank is not None:
        if normal.startswith("cuda:"):
            raise DeviceError(f"device {name!r}: under torchrun each process takes the GPU of its LOCAL_RANK; "
                              f"use --device cuda (or auto) and pick GPUs with CUDA_VISIBLE_DEVICES")
        index = local_rank
    else:
        index = int(normal.partition(":")[2] or 0)
    if index >= count:
        raise DeviceError(f"device {name!r}: cuda:{index} does not exist, this machine has {count} GPU(s) "
                          f"(cuda:0 to cuda:{count - 1})")
    return torch.device("cuda", index)
