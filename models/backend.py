"""Inference backends: the forward pass from padded token ids to head probabilities."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from verbatim.models.network import ThemeSentimentNet


class InferenceBackend(Protocol):
    name: str

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Theme probabilities [n, labels], sentiment probabilities [n, 3] and tag sentiment
        probabilities [n, labels, 3] for int64 [n, width] inputs."""
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

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with torch.inference_mode():
            logits = self.net(torch.from_numpy(input_ids).to(self.device),
                              torch.from_numpy(attention_mask).to(self.device))
            # Sigmoid and softmax in fp32, so fp16 logits lose no resolution in the probabilities.
            outputs = probabilities(*(x.float() for x in logits))
        return tuple(x.cpu().numpy() for x in outputs)


def probabilities(theme_logits: torch.Tensor, sentiment_logits: torch.Tensor,
                  tag_sentiment_logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The network's logits as the probabilities every backend returns."""
    return (torch.sigmoid(theme_logits), torch.softmax(sentiment_logits, dim=-1),
            torch.softmax(tag_sentiment_logits, dim=-1))
