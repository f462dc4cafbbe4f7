"""A cross-encoder reranker trained from a sentence encoder's weights.

The encoder reads a question and a passage together and a linear head on its first token scores
how well the passage answers; the head is new and learns at the head's rate (with the pooler
before it, which the encoder never trained for this), every other weight is the encoder's. Each training
example is one question with a relevant passage and passages a retriever ranked high that are not
relevant (hard negatives); the loss is the cross-entropy of the relevant one among the example's
scores (listwise). The saved model loads as a sequence classifier with one output.

This module imports torch: import it where a model is trained or served, not at start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from assistant.core.hf import compute_dtype, model_path, torch_device
from assistant.training.config import TrainingConfig
from assistant.training.contrastive import Pair, Tuned, fit_loop, lora_or_full, saved
from assistant.training.engine import TrainingError, autocast_for, seeded
from assistant.training.techniques import Progress


class CrossEncoder:
    """A trained reranker, loaded for scoring (`scores(query, passages)`: higher is better)."""

    def __init__(self, folder: Path, *, max_tokens: int) -> None:
        self.device = torch_device()
        self.dtype = compute_dtype("auto", self.device)
        self.max_tokens = max_tokens
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self._model = (
            AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, dtype=self.dtype
            )
            .to(self.device)
            .eval()
        )

    def scores(self, query: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        batch = self._tokenizer(
            [query] * len(passages),
            list(passages),
            truncation="only_second",
            max_length=self.max_tokens,
            padding=True,
            return_tensors="pt",
        ).to(self.device)
        with torch.inference_mode():
            logits = self._model(**batch).logits[:, 0]
        return np.asarray(logits.float().cpu().numpy(), dtype=np.float32)


def cross_encoder_fit(
    pairs: Sequence[Pair],
    validation: Sequence[Pair],
    config: TrainingConfig,
    folder: Path,
    *,
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
) -> Tuned:
    """Train a reranker from `config.base_model`'s weights on the pairs and save it at `folder`.
    Each epoch ends with the loss on `validation`."""
    if not pairs:
        raise TrainingError("no training questions: give questions with relevant passages", field="data")
    seeded(config.seed)
    device = torch_device()
    path = model_path(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, local_files_only=True, num_labels=1, dtype=torch.float32
    ).to(device)
    trained, adapter = lora_or_full(model, config, modules_to_save=["classifier"])
    autocast = autocast_for(device)

    def loss_of(batch: Sequence[Pair]) -> torch.Tensor:
        width = 1 + max(len(pair.negatives) for pair in batch)
        queries, passages, mask = [], [], []
        for pair in batch:
            members = [pair.positive, *pair.negatives]
            members += [pair.positive] * (width - len(members))
            queries += [pair.query] * width
            passages += members
            mask.append([True] * (1 + len(pair.negatives)) + [False] * (width - 1 - len(pair.negatives)))
        encoded = tokenizer(
            queries, passages, truncation="only_second", max_length=config.max_tokens, padding=True,
            return_tensors="pt",
        ).to(device)  # fmt: skip
        with autocast:
            logits = trained(**encoded).logits[:, 0].float().view(len(batch), width)
        logits = logits.masked_fill(~torch.tensor(mask, device=device), -1e4)
        return torch.nn.functional.cross_entropy(
            logits, torch.zeros(len(batch), dtype=torch.long, device=device)
        )

    history, epoch_seconds = fit_loop(
        trained,
        pairs,
        validation,
        config,
        loss_of,
        on_progress=on_progress,
        should_stop=should_stop,
        head=("classifier", "pooler"),
    )
    saved(trained, adapter, tokenizer, folder)
    return Tuned(device, history, epoch_seconds)
