"""The neural network: a transformer encoder, mean pooling, a theme head, a sentiment head and a
sentiment per tag."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from verbatim.models.types import SENTIMENT_LABELS


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


class ThemeSentimentNet(nn.Module):
    """Encoder plus heads on the pooled embedding.

    The theme head has one logit per label of every account; per-account masking
    happens outside, so one forward pass serves a batch that mixes accounts.

    A tag's sentiment is the comment's sentiment logits plus that tag's own offset
    (`tag_sentiment_head`, 3 logits per label, zero at first): a tag that learned nothing
    about its sentiment reads as the comment's, and "love the app, hate the new price" can
    still give Usability positive and Price negative from the same pass.
    """

    def __init__(self, encoder: PreTrainedModel, num_labels: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.theme_head = nn.Linear(hidden, num_labels)
        self.sentiment_head = nn.Linear(hidden, len(SENTIMENT_LABELS))
        self.tag_sentiment_head = nn.Linear(hidden, num_labels * len(SENTIMENT_LABELS))
        nn.init.zeros_(self.tag_sentiment_head.weight)
        nn.init.zeros_(self.tag_sentiment_head.bias)

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(hidden, attention_mask)

    def heads(self, pooled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pooled = self.dropout(pooled)
        sentiment = self.sentiment_head(pooled)
        offsets = self.tag_sentiment_head(pooled).unflatten(-1, (-1, len(SENTIMENT_LABELS)))  # batch stays dynamic
        return self.theme_head(pooled), sentiment, sentiment.unsqueeze(1) + offsets

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Theme logits [n, labels], sentiment logits [n, 3] and tag sentiment logits [n, labels, 3]."""
        return self.heads(self.embed(input_ids, attention_mask))
