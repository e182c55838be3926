"""Mixed precision for the training step: bf16 autocast on GPUs that support it, else fp16 with
a gradient scaler; on the CPU, plain fp32, exactly the step training always took there."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import torch


class Precision:
    """The forward pass's autocast and the backward/step of one optimiser update on `device`."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.dtype: torch.dtype | None = None
        if device.type == "cuda":
            # bf16 keeps fp32's exponent range, so it needs no loss scaling; older GPUs lack it.
            self.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if self.dtype is torch.float16 else None

    @property
    def name(self) -> str:
        """fp32, bf16 or fp16: what the artifact's training config records."""
        return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.dtype is None:
            yield
            return
        with torch.autocast(device_type=self.device.type, dtype=self.dtype):
            yield

    def backward(self, loss: torch.Tensor) -> None:
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def step(self, optimizer: torch.optim.Optimizer, parameters: Iterable[torch.Tensor], max_norm: float) -> None:
        """Clip the (unscaled) gradients to `max_norm`, then step; fp16 skips a step whose gradients overflowed."""
        if self.scaler is None:
            torch.nn.utils.clip_grad_norm_(parameters, max_norm)
            optimizer.step()
            return
        self.scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(parameters, max_norm)
        self.scaler.step(optimizer)
        self.scaler.update()
