"""Stand-ins that read pooled embeddings from a table instead of running an encoder, so the
quick path (training.heads_only) tunes and judges heads through the ordinary Predictor code
on cached embeddings, and no text is encoded twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from verbatim.models.artifact import Artifact
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.original_encoder import OriginalColumns


class _LookupNet(nn.Module):
    """Stands in for a ThemeSentimentNet: the pooled embedding comes from a table, keyed by a
    row's unpadded token ids, instead of from the encoder. A row not in the table is an error."""

    def __init__(self, net: ThemeSentimentNet, table: Mapping[bytes, np.ndarray]) -> None:
        super().__init__()
        self.net = net
        self.table = table

    @property
    def theme_head(self) -> nn.Linear:  # the heads are the network's: calibration scales them in place
        return self.net.theme_head

    @property
    def sentiment_head(self) -> nn.Linear:
        return self.net.sentiment_head

    @property
    def tag_sentiment_head(self) -> nn.Linear:
        return self.net.tag_sentiment_head

    def forward(self, input_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.net.heads(_looked_up(self.table, input_ids, attention_mask))


class _LookupColumns(OriginalColumns):
    """OriginalColumns whose embeddings come from a table like _LookupNet's, sharing the real one's head."""

    def __init__(self, original: OriginalColumns, table: Mapping[bytes, np.ndarray]) -> None:
        nn.Module.__init__(self)
        self.columns = original.columns
        self.head = original.head
        self.table = table

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return _looked_up(self.table, input_ids, attention_mask)


def _looked_up(table: Mapping[bytes, np.ndarray], input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The table's embedding of each row, keyed by the row's unpadded token ids."""
    rows = [ids[mask.bool()].cpu().numpy().astype(np.int64).tobytes() for ids, mask in zip(input_ids, attention_mask)]
    return torch.from_numpy(np.stack([table[row] for row in rows]))


def lookup_artifact(artifact: Artifact, texts: Sequence[str], embeddings: np.ndarray,
                    original_embeddings: np.ndarray | None = None) -> Artifact:
    """The same artifact (meta shared, so tuned thresholds land in it) whose forward pass reads
    `embeddings` of `texts` instead of running the encoder; only valid for the encoder that made them.
    `original_embeddings`: the same texts' by the original encoder, needed when the artifact has
    columns served from it."""
    ids = artifact.tokenizer(list(texts), truncation=True, max_length=artifact.meta.max_length)["input_ids"] \
        if texts else []
    keys = [np.asarray(row, dtype=np.int64).tobytes() for row in ids]
    net = cast(ThemeSentimentNet, _LookupNet(artifact.net, dict(zip(keys, embeddings))))  # called like the real one
    original = None
    if artifact.original is not None:
        if original_embeddings is None:
            raise ValueError(f"model {artifact.meta.version} reads accounts {artifact.meta.original_accounts} "
                             f"from the original encoder: pass original_embeddings")
        original = _LookupColumns(artifact.original, dict(zip(keys, original_embeddings)))
    return Artifact(meta=artifact.meta, net=net, tokenizer=artifact.tokenizer, original=original)
