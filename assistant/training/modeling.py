"""The classifier: a sentence encoder with a cosine head, and its artefact on disk.

The encoder's pooled, unit-length embedding is compared with one unit vector per label
(scaled cosine similarity). The label vectors start at the centroids of the training
examples, so training begins from a nearest-centroid classifier instead of a random head.

Its artefact is a folder: `encoder/` (Hugging Face weights and tokenizer, LoRA merged in),
`head.safetensors`, `adapter/` for LoRA runs (the adapter as trained, for reuse), and the
manifest every technique writes (`techniques.artefact`).

This module imports torch: import it where a model is trained or served, not at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from django.conf import settings
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional
from transformers import AutoModel, AutoTokenizer

from assistant.core.hf import compute_dtype, int8_linear, length_batches, pool, torch_device
from assistant.training.techniques import Scores
from assistant.training.techniques.base import Drifting

HEAD = "head.safetensors"
ENCODER = "encoder"
LOGIT_SCALE = 20.0


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


def artefact_write(model: Any, tokenizer: Any, folder: Path) -> None:
    """The model's weights and tokenizer; the manifest is written last, by `manifest_write`."""
    model.encoder.save_pretrained(folder / ENCODER)
    tokenizer.save_pretrained(folder / ENCODER)
    save_file({"weight": model.head.weight.detach().float().contiguous()}, str(folder / HEAD))


class Classifier(Drifting):
    """A loaded classifier: probabilities and embeddings for texts, in batches sorted by length."""

    def __init__(
        self, model: Any, tokenizer: Any, manifest: dict[str, Any], *, device: str, dtype: Any
    ) -> None:
        super().__init__(manifest)
        self.model = model
        self.tokenizer = tokenizer
        self._labels: list[str] = list(manifest["labels"])
        self.max_tokens = int(manifest["max_tokens"])
        self.device = device
        self.dtype = dtype

    @property
    def labels(self) -> list[str]:
        return self._labels

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
        return Scores(probabilities, embeddings, self.labels)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.scores(texts).embeddings
