"""A self-describing model artifact: weights, tokenizer, labels, thresholds, taxonomies,
training config, data fingerprint and evaluation report, all in one directory."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file

from verbatim.models.encoder import AutoModel, AutoTokenizer, PreTrainedTokenizerBase
from verbatim.models.labels import LabelSpace
from verbatim.models.network import ThemeSentimentNet
from verbatim.models.original_encoder import OriginalColumns
from verbatim.models.tag_count import TagCount
from verbatim.models.taxonomy import DEFAULT_ACCOUNT, Taxonomy
from verbatim.models.thresholds import DEFAULT_THRESHOLD

FORMAT_VERSION = 1
META_FILE = "artifact.json"
HEADS_FILE = "heads.safetensors"
ENCODER_DIR = "encoder"
DEFAULT_REVIEW_CUTOFF = 0.5  # an artifact tuned on no dev comment at all


class ArtifactError(RuntimeError):
    """An artifact directory that cannot be loaded."""


@dataclass
class ArtifactMeta:
    version: str
    created_at: str
    labels: LabelSpace
    thresholds: list[float]
    rule_thresholds: list[float]
    taxonomies: dict[str, Taxonomy]
    max_length: int = 128
    training_config: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    tag_counts: dict[str, TagCount] = field(default_factory=dict)  # accounts without one: any number
    # Per account, the confidence under which a comment needs review (training.calibration).
    review_cutoffs: dict[str, float] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)  # temperatures and dev ECE
    # Accounts whose theme columns are served from the original encoder (models.original_encoder).
    original_accounts: list[str] = field(default_factory=list)

    def tag_count(self, account: str) -> TagCount:
        return self.tag_counts.get(account, TagCount())

    def original_columns(self) -> list[int]:
        """The theme columns served from the original encoder, in its head's row order."""
        return [c for account in self.original_accounts for c in self.labels.indices(account)]

    def review_cutoff(self, account: str) -> float:
        """The account's cut-off; one without its own dev comments takes the default account's."""
        return self.review_cutoffs.get(account, self.review_cutoffs.get(DEFAULT_ACCOUNT, DEFAULT_REVIEW_CUTOFF))

    @classmethod
    def untuned(cls, version: str, labels: LabelSpace, taxonomies: dict[str, Taxonomy], **rest: Any) -> "ArtifactMeta":
        """Metadata for a model trained just now, every threshold still at the default (tune them on dev)."""
        return cls(version=version, created_at=datetime.now(UTC).isoformat(timespec="seconds"), labels=labels,
                   thresholds=[DEFAULT_THRESHOLD] * len(labels), rule_thresholds=[DEFAULT_THRESHOLD] * len(labels),
                   taxonomies=taxonomies, **rest)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["labels"] = self.labels.to_list()
        data["taxonomies"] = {a: t.to_list() for a, t in self.taxonomies.items()}
        data["format_version"] = FORMAT_VERSION
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ArtifactMeta":
        if data.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"artifact format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}")
        data = dict(data)
        data.pop("format_version")
        for legacy in ("review_margin", "min_sentiment_confidence"):  # the review rule before calibration
            data.pop(legacy, None)
        data["labels"] = LabelSpace.from_list(data["labels"])
        data["taxonomies"] = {a: Taxonomy.from_list(t) for a, t in data["taxonomies"].items()}
        data["tag_counts"] = {a: TagCount(**c) for a, c in data.get("tag_counts", {}).items()}
        return cls(**data)


HEADS = ("theme_head", "sentiment_head", "tag_sentiment_head")


@dataclass
class Artifact:
    meta: ArtifactMeta
    net: ThemeSentimentNet
    tokenizer: PreTrainedTokenizerBase
    original: OriginalColumns | None = None  # exactly when meta.original_accounts is not empty

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.net.encoder.save_pretrained(directory / ENCODER_DIR)
        self.tokenizer.save_pretrained(directory / ENCODER_DIR)
        heads = {f"{name}.{k}": v for name in HEADS for k, v in getattr(self.net, name).state_dict().items()}
        # On the CPU whatever device trained it, so it loads anywhere.
        save_file({k: v.detach().cpu().contiguous() for k, v in heads.items()}, str(directory / HEADS_FILE))
        if self.original is not None:
            self.original.save(directory)
        (directory / META_FILE).write_text(json.dumps(self.meta.to_json(), indent=2))

    @classmethod
    def load(cls, directory: Path) -> "Artifact":
        """The artifact in `directory`, its weights on the CPU (move `net` to serve elsewhere)."""
        try:
            meta = ArtifactMeta.from_json(json.loads((directory / META_FILE).read_text()))
            encoder = AutoModel.from_pretrained(str(directory / ENCODER_DIR))
            tokenizer = AutoTokenizer.from_pretrained(str(directory / ENCODER_DIR))
            net = ThemeSentimentNet(encoder, num_labels=len(meta.labels))
            heads = load_file(str(directory / HEADS_FILE), device="cpu")
            for name in HEADS:
                head = {k.split(".", 1)[1]: v for k, v in heads.items() if k.startswith(name + ".")}
                if head or name != "tag_sentiment_head":  # one from before tag sentiment keeps zero offsets
                    getattr(net, name).load_state_dict(head)
            original = OriginalColumns.load(directory, meta.original_columns()) if meta.original_accounts else None
        except ArtifactError:
            raise
        except Exception as exc:  # any missing file, bad JSON or shape mismatch
            raise ArtifactError(f"cannot load artifact at {directory}: {exc}") from exc
        if not (len(meta.thresholds) == len(meta.rule_thresholds) == len(meta.labels)):
            raise ArtifactError(f"artifact at {directory}: thresholds do not match its {len(meta.labels)} labels")
        net.eval()
        return cls(meta=meta, net=net, tokenizer=tokenizer, original=original)

