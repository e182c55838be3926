"""The neural network: a transformer encoder, mean pooling, a theme head and a sentiment head."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from verbatim.models.types import SENTIMENT_LABELS


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class ThemeSentimentNet(nn.Module):
    """Encoder plus two heads on the pooled embedding.

    The theme head has one logit per label of every account; per-account masking
    happens outside, so one forward pass serves a batch that mixes accounts.
    """

    def __init__(self, encoder: PreTrainedModel, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.theme_head = nn.Linear(hidden, num_labels)
        self.sentiment_head = nn.Linear(hidden, len(SENTIMENT_LABELS))

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.dropout(pooled)
        return self.theme_head(pooled), self.sentiment_head(pooled)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Theme logits [n, labels] and sentiment logits [n, 3]."""
        return self.heads(self.embed(input_ids, attention_mask))
