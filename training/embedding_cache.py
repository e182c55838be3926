"""The quick path's embedding cache: pooled embeddings of one encoder, computed once per text.

Later heads-only runs embed only the comments not seen before; a chain of heads-only
champions shares one cache, since none of them changes the encoder.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from verbatim.models.artifact import Artifact, ArtifactMeta
from verbatim.models.encoder import frozen_base_encoder
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.original_encoder import ORIGINAL_VERSION
from verbatim.models.registry import atomic_write
from verbatim.training.train import pooled_embeddings


def encoder_version(meta: ArtifactMeta) -> str:
    """The version whose training last changed this artifact's encoder: heads-only runs copy it
    unchanged, so a chain of them shares one embedding cache."""
    return str(meta.training_config.get("encoder_version") or meta.version)


def _text_key(text: str, max_length: int) -> str:
    return hashlib.sha256(f"{max_length}\x00{text}".encode()).hexdigest()


class EmbeddingCache:
    """Pooled embeddings of one artifact's encoder, keyed by text, in `<directory>/<encoder version>.npz`.

    `device`: where texts not cached yet are encoded (the artifact's net visits it and comes back).
    """

    def __init__(self, directory: Path, artifact: Artifact, device: torch.device | None = None) -> None:
        self.artifact = artifact
        self.path = directory / f"{encoder_version(artifact.meta)}.npz"
        self.device = device
        self.computed = 0

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """[len(texts), hidden] float32, computing and saving only the texts not cached yet."""
        keys = self._keys(texts)
        cached = self._load()
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in cached}.items())
        if missing:
            vectors = self.encode([t for _, t in missing], batch_size)
            cached.update(zip((k for k, _ in missing), vectors))
            self._save(cached)
        self.computed = len(missing)
        return np.stack([cached[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts of `texts` not cached yet, in a fixed order."""
        cached = self._load()
        return [t for _, t in sorted({k: t for k, t in zip(self._keys(texts), texts) if k not in cached}.items())]

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store embeddings computed elsewhere (by several processes) for `texts`."""
        if len(texts):
            cached = self._load()
            cached.update(zip(self._keys(texts), vectors))
            self._save(cached)

    def prune(self) -> None:
        """Delete the caches of other fine-tuned encoders: they are never read again once a new one
        is champion. The original encoder's never changes, so it stays."""
        for path in self.path.parent.glob("*.npz"):
            if path not in (self.path, self.path.with_name(f"{ORIGINAL_VERSION}.npz")):
                path.unlink(missing_ok=True)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """[len(texts), hidden] pooled embeddings by the artifact's encoder, cached or not."""
        return encode_texts(self.artifact, texts, batch_size, self.device)

    def _keys(self, texts: Sequence[str]) -> list[str]:
        return [_text_key(t, self.artifact.meta.max_length) for t in texts]

    def _load(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path) as data:
                return dict(zip(data["keys"].tolist(), data["vectors"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return {}  # missing or unreadable: recompute, and the next save replaces it

    def _save(self, cached: dict[str, np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))
        atomic_write(self.path, buffer.getvalue())


def original_artifact(champion: Artifact) -> Artifact:
    """The original encoder (the champion's copy, or the installed package's) as an artifact of
    no labels, so that its embeddings are cached like an encoder's, under ORIGINAL_VERSION."""
    encoder = champion.original.encoder if champion.original is not None else frozen_base_encoder()
    meta = ArtifactMeta.untuned(ORIGINAL_VERSION, LabelSpace(()), {}, max_length=champion.meta.max_length)
    return Artifact(meta=meta, net=ThemeSentimentNet(encoder, num_labels=1), tokenizer=champion.tokenizer)


def encode_texts(artifact: Artifact, texts: Sequence[str], batch_size: int = 64,
                 device: torch.device | None = None) -> np.ndarray:
    """[len(texts), hidden] float32 pooled embeddings of `texts` by the artifact's encoder, run on `device`."""
    hidden = artifact.net.encoder.config.hidden_size
    if not texts:
        return np.zeros((0, hidden), dtype=np.float32)
    tokenizer, net = artifact.tokenizer, artifact.net.eval()
    home = next(net.parameters()).device
    net.to(device or home)
    try:
        ids = tokenizer(list(texts), truncation=True, max_length=artifact.meta.max_length)["input_ids"]
        return pooled_embeddings(net, ids, tokenizer.pad_token_id or 0, batch_size).numpy()
    finally:
        net.to(home)
