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
    name = "torch"

    def __init__(self, net: ThemeSentimentNet) -> None:
        self.net = net.eval()

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.inference_mode():
            theme_logits, sentiment_logits = self.net(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))
        return torch.sigmoid(theme_logits).numpy(), torch.softmax(sentiment_logits, dim=-1).numpy()
