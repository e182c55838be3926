"""Where a full retrain's encoder comes from: a trained artifact's, with its lower layers frozen.

Continuing from the champion's fine-tuned encoder needs fewer epochs than starting from the
base one. Freezing the embeddings and the lowest layers cuts the backward pass and the
optimiser state to the top of the network, which on a 2-core CPU is most of a step's cost,
at no loss of quality measured on seed + SemEval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from verbatim.models.artifact import ENCODER_DIR
from verbatim.models.encoder import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from verbatim.training.train import EncoderFactory


def artifact_encoder(directory: Path) -> EncoderFactory:
    """A factory for the encoder and tokenizer saved in an artifact directory."""
    encoder = str(directory / ENCODER_DIR)
    return lambda: (AutoModel.from_pretrained(encoder), AutoTokenizer.from_pretrained(encoder))


def freezing(factory: EncoderFactory, frozen_layers: int | None) -> EncoderFactory:
    """The factory's encoder with its embeddings and `frozen_layers` lowest layers frozen (None: none).

    train() then neither back-propagates into them nor keeps optimiser state for them.
    """
    if frozen_layers is None:
        return factory

    def load() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
        encoder, tokenizer = factory()
        bert = cast(Any, encoder)  # BERT-style: embeddings, then encoder.layer
        layers = list(bert.encoder.layer)
        if frozen_layers > len(layers):
            raise ValueError(f"RetrainConfig.frozen_layers is {frozen_layers}; the encoder has {len(layers)} layers")
        for module in (bert.embeddings, *layers[:frozen_layers]):
            module.requires_grad_(False)
        return encoder, tokenizer
    return load
