"""Inference backends: the forward pass from padded token ids to head probabilities."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from verbatim.models.network import ThemeSentimentNet


class InferenceBackend(Protocol):
    name: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Theme probabilities [n, labels] and sentiment probabilities [n, 3] for int64 [n, width] inputs."""
        ...


class TorchBackend:
    """The network as it is, on the device its weights are on: fp32 on the CPU, and on CUDA
    whatever `on_device` made it (fp16). Inputs go to that device; outputs come back as fp32 numpy."""

    name = "torch"

    def __init__(self, net: ThemeSentimentNet) -> None:
        self.net = net.eval()
        self.device = next(net.parameters()).device

    @classmethod
    def on_device(cls, net: ThemeSentimentNet, device: torch.device) -> TorchBackend:
        """`net` moved to `device`; on CUDA in fp16, which halves memory and runs on the tensor cores."""
        net = net.to(device)
        return cls(net.half() if device.type == "cuda" else net)

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            theme_logits, sentiment_logits = self.net(torch.from_numpy(input_ids).to(self.device),
                                                      torch.from_numpy(attention_mask).to(self.device))
            # Sigmoid and softmax in fp32, so fp16 logits lose no resolution in the probabilities.
            themes, sentiment = torch.sigmoid(theme_logits.float()), torch.softmax(sentiment_logits.float(), dim=-1)
        return themes.cpu().numpy(), sentiment.cpu().numpy()
