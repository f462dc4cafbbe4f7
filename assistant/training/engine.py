"""The training loop: LoRA, full fine-tuning or QLoRA of a sentence classifier.

Deterministic for a seed on a given device and thread count. Batches group texts of similar
length (shuffled within and across groups), so short texts are not padded to the longest.
On a processor with native bfloat16 (or a GPU) the forward and backward passes run under
bfloat16 autocast; the weights and the optimiser stay in float32.

This module imports torch: import it where a model is trained, not at start-up.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from django.conf import settings
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

from assistant.core.errors import ApplicationError
from assistant.core.hf import SentenceConfig, compute_dtype, model_path, torch_device
from assistant.training.config import TrainingConfig
from assistant.training.data import Splits
from assistant.training.modeling import SentenceClassifier
from assistant.training.techniques import Progress

logger = logging.getLogger("finassist.training")

GROUP_BATCHES = 50  # batches per length-sorted group
REPORTS = 200  # progress reports (loss, cancellation check) per run, and one at each epoch's end


class TrainingError(ApplicationError):
    pass


class TrainingCancelled(Exception):
    pass


@dataclass
class Trained:
    model: SentenceClassifier  # LoRA merged in
    tokenizer: Any
    cls_pooling: bool
    device: str
    history: list[dict[str, Any]]
    epoch_seconds: list[float]
    adapter: Any = None  # the PEFT model before merging, for saving the adapter


def fit(
    splits: Splits,
    labels: Sequence[str],
    config: TrainingConfig,
    *,
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
) -> Trained:
    seeded(config.seed)
    device = torch_device()
    if config.method == "qlora":
        _require_qlora(device)
    path = model_path(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = _encoder(path, config, device)
    sentence = SentenceConfig.read(
        path, positions=encoder.config.max_position_embeddings, tokenizer_limit=tokenizer.model_max_length
    )
    model = SentenceClassifier(encoder, len(labels), cls_pooling=sentence.cls_pooling).to(device)
    autocast = autocast_for(device)
    index = {label: i for i, label in enumerate(labels)}
    train_ids = _tokenized(tokenizer, [e.text for e in splits.train], config.max_tokens)
    train_targets = [index[e.label] for e in splits.train]
    validation_ids = _tokenized(tokenizer, [e.text for e in splits.validation], config.max_tokens)
    validation_targets = [index[e.label] for e in splits.validation]

    with torch.no_grad():
        model.head.weight.copy_(_centroids(model, train_ids, train_targets, len(labels), device))
    history: list[dict[str, Any]] = [
        {"step": 0, "epoch": 0, **_validation(model, validation_ids, validation_targets, device)}
    ]
    logger.info("nearest-centroid start: validation accuracy %.4f", history[0]["validation_accuracy"])

    trained, adapter = _trainable(model, config)
    generator = torch.Generator().manual_seed(config.seed)
    batches_per_epoch = math.ceil(len(train_ids) / config.batch_size)
    total = batches_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(_parameter_groups(trained, config), weight_decay=config.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_share), total)
    steps = Steps(trained, optimizer, schedule, total, history, on_progress, should_stop)
    epoch_seconds = []
    for epoch in range(1, config.epochs + 1):
        trained.train()
        started = time.perf_counter()
        for batch in _batches(train_ids, config.batch_size, generator):
            input_ids, attention_mask = padded([train_ids[i] for i in batch], tokenizer.pad_token_id, device)
            targets = torch.tensor([train_targets[i] for i in batch], device=device)
            with autocast:
                logits = trained(input_ids=input_ids, attention_mask=attention_mask)
            steps.take(torch.nn.functional.cross_entropy(logits.float(), targets), epoch)
        epoch_seconds.append(round(time.perf_counter() - started, 2))
        steps.flush(epoch)
        trained.eval()
        validation = _validation(model, validation_ids, validation_targets, device)
        history.append({"step": steps.step, "epoch": epoch, **validation})
        logger.info(
            "epoch %d: %.1f s, validation accuracy %.4f",
            epoch, epoch_seconds[-1], validation["validation_accuracy"],
        )  # fmt: skip
        on_progress(Progress(epoch, steps.step, total, history[-2].get("loss"), history))
        if should_stop():
            raise TrainingCancelled
    return Trained(model, tokenizer, sentence.cls_pooling, device, history, epoch_seconds, adapter)


class Steps:
    """A fit's optimiser steps and its loss reports: every `total // REPORTS` steps (by steps, not
    seconds, so that the history is the same for the same seed) the mean loss since the last
    report joins the history, progress is reported and a cancellation honoured."""

    def __init__(
        self,
        model: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        schedule: Any,
        total: int,
        history: list[dict[str, Any]],
        on_progress: Callable[[Progress], None],
        should_stop: Callable[[], bool],
    ) -> None:
        self.model, self.optimizer, self.schedule = model, optimizer, schedule
        self.total, self.history = total, history
        self.on_progress, self.should_stop = on_progress, should_stop
        self.every = max(1, total // REPORTS)
        self.step = 0
        self.running: list[float] = []

    def take(self, loss: torch.Tensor, epoch: int) -> None:
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.schedule.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        self.running.append(loss.item())
        if self.step % self.every == 0:
            self.flush(epoch)
            self.on_progress(Progress(epoch, self.step, self.total, self.history[-1]["loss"], self.history))
            if self.should_stop():
                raise TrainingCancelled

    def flush(self, epoch: int) -> None:
        """The losses not reported yet, into the history (at an epoch's end)."""
        if self.running:
            self.history.append(
                {"step": self.step, "epoch": epoch, "loss": round(float(np.mean(self.running)), 4)}
            )
            self.running = []


def adapter_save_and_merge(fitted: Trained, folder: Path) -> None:
    """Save the LoRA adapter as trained, then fold it into the encoder (merging first would empty it)."""
    if fitted.adapter is None:
        return
    fitted.adapter.save_pretrained(folder)
    fitted.model = fitted.adapter.merge_and_unload()
    fitted.adapter = None


def seeded(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _require_qlora(device: str) -> None:
    if device != "cuda":
        raise TrainingError(
            "QLoRA needs a CUDA GPU; this worker has none (use --method lora)", field="method"
        )
    if importlib.util.find_spec("bitsandbytes") is None:
        raise TrainingError("QLoRA needs the bitsandbytes package on this worker", field="method")


def _encoder(path: Path, config: TrainingConfig, device: str) -> Any:
    if config.method != "qlora":
        return AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    from peft import prepare_model_for_kbit_training
    from transformers import BitsAndBytesConfig

    quantization = BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=torch.bfloat16,
        bnb_4bit_use_double_quant=True,
    )
    encoder = AutoModel.from_pretrained(path, local_files_only=True, quantization_config=quantization)
    return prepare_model_for_kbit_training(encoder)


def autocast_for(device: str) -> AbstractContextManager[Any]:
    if compute_dtype(settings.TORCH_DTYPE, device) == torch.bfloat16:
        return torch.autocast(device_type=device, dtype=torch.bfloat16)
    return nullcontext()


def _trainable(model: SentenceClassifier, config: TrainingConfig) -> tuple[torch.nn.Module, Any]:
    if config.method == "full":
        model.requires_grad_(True)
        return model, None
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        modules_to_save=["head"],
    )
    try:
        adapted = get_peft_model(model, lora)
    except ValueError as error:
        raise TrainingError(f"LoRA cannot adapt this model: {error}", field="lora_target_modules") from error
    return adapted, adapted


def _parameter_groups(model: torch.nn.Module, config: TrainingConfig) -> list[dict[str, Any]]:
    head: list[torch.nn.Parameter] = []
    body: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (head if ".head." in f".{name}" or name.startswith("head.") else body).append(parameter)
    return [
        {"params": body, "lr": config.learning_rate},
        {"params": head, "lr": config.head_learning_rate},
    ]


def _tokenized(tokenizer: Any, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    return tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"] if texts else []


def padded(sequences: Sequence[Sequence[int]], pad: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = torch.tensor(sequence)
        mask[row, : len(sequence)] = 1
    return ids.to(device), mask.to(device)


def _batches(sequences: Sequence[Sequence[int]], size: int, generator: torch.Generator) -> list[list[int]]:
    order = torch.randperm(len(sequences), generator=generator).tolist()
    batches: list[list[int]] = []
    group = size * GROUP_BATCHES
    for start in range(0, len(order), group):
        members = sorted(order[start : start + group], key=lambda i: len(sequences[i]))
        batches.extend(members[i : i + size] for i in range(0, len(members), size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def _embeddings(model: SentenceClassifier, sequences: Sequence[Sequence[int]], device: str) -> torch.Tensor:
    pad = model.encoder.config.pad_token_id or 0
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    out = torch.zeros((len(sequences), model.head.in_features))
    with torch.inference_mode(), autocast_for(device):
        for start in range(0, len(order), 128):
            chosen = order[start : start + 128]
            ids, mask = padded([sequences[i] for i in chosen], pad, device)
            out[chosen] = model.embed(ids, mask).float().cpu()
    return out


def _centroids(
    model: SentenceClassifier,
    sequences: Sequence[Sequence[int]],
    targets: Sequence[int],
    labels: int,
    device: str,
) -> torch.Tensor:
    """Unit mean embedding per label; a label without examples keeps its random vector."""
    embedded = _embeddings(model, sequences, device)
    centroids = model.head.weight.detach().float().cpu().clone()
    target = torch.tensor(targets)
    for label in range(labels):
        members = embedded[target == label]
        if len(members):
            centroids[label] = torch.nn.functional.normalize(members.mean(0), dim=0)
    return centroids.to(device)


def _validation(
    model: SentenceClassifier, sequences: Sequence[Sequence[int]], targets: Sequence[int], device: str
) -> dict[str, float]:
    """Accuracy and mean cross-entropy loss on the validation split (no loss when it is empty)."""
    if not sequences:
        return {"validation_accuracy": 0.0}
    with torch.no_grad():
        logits = model.logits_of(_embeddings(model, sequences, device).to(device)).float().cpu()
    truth = torch.tensor(targets)
    return {
        "validation_accuracy": round(float((logits.argmax(-1) == truth).float().mean()), 4),
        "validation_loss": round(float(torch.nn.functional.cross_entropy(logits, truth)), 4),
    }
