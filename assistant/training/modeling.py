"""The classifier: a sentence encoder with a cosine head, and its artefact on disk.

The encoder's pooled, unit-length embedding is compared with one unit vector per label
(scaled cosine similarity). The label vectors start at the centroids of the training
examples, so training begins from a nearest-centroid classifier instead of a random head.

An artefact is a folder: `encoder/` (Hugging Face weights and tokenizer, LoRA merged in),
`head.safetensors`, `adapter/` for LoRA runs (the adapter as trained, for reuse), and
`finassist-model.json` (format version, labels, threshold, drift reference). Its checksum
covers every file; loading refuses a folder whose checksum or format version is not the one
registered.

This module imports torch: import it where a model is trained or served, not at start-up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from django.conf import settings
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional
from transformers import AutoModel, AutoTokenizer

from assistant.core.errors import ApplicationError
from assistant.core.hf import compute_dtype, int8_linear, length_batches, pool, torch_device

FORMAT_VERSION = 1
MANIFEST = "finassist-model.json"
HEAD = "head.safetensors"
ENCODER = "encoder"
LOGIT_SCALE = 20.0


class ArtefactError(ApplicationError):
    status = 503  # the model cannot be served until an engineer repairs or replaces it


class SentenceClassifier(nn.Module):
    def __init__(self, encoder: Any, labels: int, *, cls_pooling: bool) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.config.hidden_size, labels, bias=False)
        self.cls_pooling = cls_pooling

    def embed(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return functional.normalize(pool(hidden, attention_mask, cls=self.cls_pooling).float(), dim=-1)

    def logits_of(self, embeddings: torch.Tensor) -> torch.Tensor:
        weights = functional.normalize(self.head.weight.float(), dim=-1)
        return LOGIT_SCALE * embeddings.float() @ weights.T

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.logits_of(self.embed(input_ids, attention_mask))


def checksum(folder: Path) -> str:
    """SHA-256 over every file's relative path and content, in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def artefact_write(model: Any, tokenizer: Any, folder: Path) -> None:
    """The model's weights and tokenizer; the manifest is written last, by `manifest_write`."""
    model.encoder.save_pretrained(folder / ENCODER)
    tokenizer.save_pretrained(folder / ENCODER)
    save_file({"weight": model.head.weight.detach().float().contiguous()}, str(folder / HEAD))


def manifest_write(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2))


def artefact_verify(folder: Path, *, expected_checksum: str) -> dict[str, Any]:
    """The artefact's manifest, once its files match the registered checksum and its format is ours."""
    if not (folder / MANIFEST).is_file():
        raise ArtefactError(f"model artefact {folder} is missing or incomplete")
    found = checksum(folder)
    if found != expected_checksum:
        raise ArtefactError(
            f"model artefact {folder} does not match its registered checksum "
            f"({found[:12]}... != {expected_checksum[:12]}...); refusing to load it"
        )
    manifest = json.loads((folder / MANIFEST).read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtefactError(
            f"model artefact {folder} has format version {manifest.get('format_version')}; "
            f"this code reads version {FORMAT_VERSION}"
        )
    return manifest


@dataclass
class Scores:
    probabilities: np.ndarray  # (texts, labels)
    embeddings: np.ndarray  # (texts, hidden), unit length


class Classifier:
    """A loaded classifier: probabilities and embeddings for texts, in batches sorted by length."""

    def __init__(
        self, model: Any, tokenizer: Any, manifest: dict[str, Any], *, device: str, dtype: Any
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.labels: list[str] = list(manifest["labels"])
        self.max_tokens = int(manifest["max_tokens"])
        self.device = device
        self.dtype = dtype
        reference = manifest.get("drift_reference") or {}
        self._drift_mean = np.array(reference.get("mean", []))
        self._drift_components = np.array(reference.get("components", []))

    @classmethod
    def load(cls, folder: Path, *, expected_checksum: str, quantized: bool = False) -> Classifier:
        """The artefact at `folder`, after checking that it is exactly the one registered."""
        manifest = artefact_verify(folder, expected_checksum=expected_checksum)
        return cls.from_files(folder, manifest, quantized=quantized)

    @classmethod
    def from_files(cls, folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Classifier:
        """`quantized`: int8 dynamic quantization of the encoder's linear layers, on a CPU only."""
        device = torch_device()
        dtype = compute_dtype(settings.TORCH_DTYPE, device)
        encoder = AutoModel.from_pretrained(folder / ENCODER, local_files_only=True, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(folder / ENCODER, local_files_only=True)
        model = SentenceClassifier(
            encoder, len(manifest["labels"]), cls_pooling=bool(manifest["cls_pooling"])
        )
        model.head.weight.data = load_file(str(folder / HEAD))["weight"].to(dtype)
        model = model.to(device).eval()
        if quantized and device == "cpu":
            model.encoder = int8_linear(model.encoder.float())
            dtype = torch.float32
        return cls(model, tokenizer, manifest, device=device, dtype=dtype)

    def scores(self, texts: Sequence[str], *, batch_size: int = 64) -> Scores:
        probabilities = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        embeddings = np.zeros((len(texts), self.model.head.in_features), dtype=np.float32)
        with torch.inference_mode():
            for indices, batch in length_batches(
                self.tokenizer, texts, batch_size=batch_size, max_tokens=self.max_tokens, device=self.device
            ):
                embedded = self.model.embed(batch["input_ids"], batch["attention_mask"])
                probabilities[indices] = torch.softmax(self.model.logits_of(embedded), dim=-1).cpu().numpy()
                embeddings[indices] = embedded.cpu().numpy()
        return Scores(probabilities, embeddings)

    def drift_projections(self, embeddings: np.ndarray) -> np.ndarray:
        """Coordinates of embeddings on the training data's main directions (the drift reference)."""
        return (embeddings - self._drift_mean) @ self._drift_components.T
