"""Theme columns served from the original all-MiniLM-L6-v2 rather than the champion's encoder.

The champion's encoder is fine-tuned on the survey corpora. For a new account whose tags lie
far from them (BANKING77's 77 banking intents, say), a linear head on the original encoder
learns more from the same handful of corrections than one on the fine-tuned encoder
(issue 13: 0.870 against 0.843 at 16 examples per tag). So an artifact may serve some
accounts' theme columns from the original encoder: a second forward pass, run only for the
rows of those accounts. Their sentiment, and every other account, still come from the
champion's encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from verbatim.models.encoder import AutoModel, PreTrainedModel
from verbatim.models.network import mean_pool

ORIGINAL_DIR = "original_encoder"
ORIGINAL_HEAD_FILE = "original_head.safetensors"
# The embedding cache's name for the original encoder's vectors (training.embedding_cache).
ORIGINAL_VERSION = "all-MiniLM-L6-v2"
# What a column with no known example gives: a probability of 5e-5, so only its keyword
# rule can add the tag, as for a tag the champion's heads never saw.
UNSEEN_BIAS = -10.0


class OriginalRunner(Protocol):
    """What serves the columns: OriginalColumns itself, or a backend's compiled copy of it."""

    columns: list[int]

    def probabilities(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray: ...


class OriginalColumns(nn.Module):
    """The original encoder and a linear head whose outputs replace theme `columns` of an artifact."""

    def __init__(self, encoder: PreTrainedModel, columns: Sequence[int]) -> None:
        super().__init__()
        self.encoder = encoder.eval()
        self.columns = list(columns)
        self.head = nn.Linear(encoder.config.hidden_size, len(self.columns))
        with torch.no_grad():
            self.head.weight.zero_()
            self.head.bias.fill_(UNSEEN_BIAS)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def probabilities(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """[n, len(columns)] float32 probabilities for padded int64 inputs."""
        device = self.head.weight.device
        width = max(int(attention_mask.sum(1).max()), 1)  # the rows' own longest, not the batch's
        with torch.inference_mode():
            pooled = self.embed(torch.from_numpy(np.ascontiguousarray(input_ids[:, :width])).to(device),
                                torch.from_numpy(np.ascontiguousarray(attention_mask[:, :width])).to(device))
            return torch.sigmoid(self.head(pooled.to(self.head.weight.dtype)).float()).cpu().numpy()

    def rows_of(self, columns: Sequence[int]) -> list[int]:
        """The head's rows for some of its artifact columns."""
        position = {column: row for row, column in enumerate(self.columns)}
        return [position[c] for c in columns]

    def save(self, directory: Path) -> None:
        self.encoder.save_pretrained(directory / ORIGINAL_DIR)
        save_file({k: v.detach().cpu().contiguous() for k, v in self.head.state_dict().items()},
                  str(directory / ORIGINAL_HEAD_FILE))

    @classmethod
    def load(cls, directory: Path, columns: Sequence[int]) -> OriginalColumns:
        original = cls(AutoModel.from_pretrained(str(directory / ORIGINAL_DIR)), columns)
        original.head.load_state_dict(load_file(str(directory / ORIGINAL_HEAD_FILE), device="cpu"))
        return original
