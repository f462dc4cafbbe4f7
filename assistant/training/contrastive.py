"""Contrastive fine-tuning of a sentence encoder for retrieval (LoRA or full).

Each training pair is a question and a passage relevant to it, with passages a retriever ranked
high for the question that are not relevant to it (hard negatives). The loss is the cross-entropy
of each question over every passage of its batch, scaled cosine similarities as logits: the other
questions' passages are its in-batch negatives. The encoder pools and normalises as its
sentence-transformers files say, so the saved model embeds the way it was trained to.

This module imports torch: import it where a model is trained, not at start-up.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

from assistant.core.hf import SentenceConfig, model_path, pool, torch_device
from assistant.training.config import TrainingConfig
from assistant.training.engine import Steps, TrainingError, autocast_for, padded, seeded
from assistant.training.techniques import Progress

logger = logging.getLogger("finassist.training")
T = TypeVar("T")

# Cosine similarities times this are the logits: a temperature of 0.05, as sentence-transformers'
# MultipleNegativesRankingLoss uses.
SCALE = 20.0
QUERY_TOKENS = 64
# sentence-transformers' files that say how the encoder pools: copied beside the tuned weights.
SENTENCE_FILES = (
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json", "1_Pooling",
)  # fmt: skip


@dataclass(frozen=True)
class Pair:
    query: str
    positive: str
    negatives: tuple[str, ...] = ()


@dataclass
class Tuned:
    device: str
    history: list[dict[str, Any]] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)


def contrastive_fit(
    pairs: Sequence[Pair],
    validation: Sequence[Pair],
    config: TrainingConfig,
    folder: Path,
    *,
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
) -> Tuned:
    """Tune `config.base_model` on the pairs and save it, LoRA merged in, as a model directory at
    `folder` that the encoder loads like any local one. Each epoch ends with the loss on
    `validation`, every pair of it scored against all of its passages."""
    if not pairs:
        raise TrainingError("no training pairs: give questions with relevant passages", field="data")
    seeded(config.seed)
    device = torch_device()
    path = model_path(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    encoder = AutoModel.from_pretrained(path, local_files_only=True, dtype=torch.float32).to(device)
    sentence = SentenceConfig.read(
        path, positions=encoder.config.max_position_embeddings, tokenizer_limit=tokenizer.model_max_length
    )
    trained, adapter = lora_or_full(encoder, config)
    autocast = autocast_for(device)

    def embed(texts: Sequence[str], max_tokens: int) -> torch.Tensor:
        ids = tokenizer(list(texts), truncation=True, max_length=max_tokens)["input_ids"]
        input_ids, attention_mask = padded(ids, tokenizer.pad_token_id, device)
        with autocast:
            hidden = trained(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = pool(hidden, attention_mask, cls=sentence.cls_pooling).float()
        return torch.nn.functional.normalize(pooled, dim=-1)

    def loss_of(batch: Sequence[Pair]) -> torch.Tensor:
        queries = embed([pair.query for pair in batch], QUERY_TOKENS)
        passages = [pair.positive for pair in batch] + [n for pair in batch for n in pair.negatives]
        logits = SCALE * queries @ embed(passages, config.max_tokens).T
        return torch.nn.functional.cross_entropy(logits, torch.arange(len(batch), device=device))

    history, epoch_seconds = fit_loop(
        trained, pairs, validation, config, loss_of, on_progress=on_progress, should_stop=should_stop
    )
    saved(trained, adapter, tokenizer, folder)
    for name in SENTENCE_FILES:
        source = path / name
        if source.is_dir():
            shutil.copytree(source, folder / name)
        elif source.is_file():
            shutil.copy2(source, folder / name)
    return Tuned(device, history, epoch_seconds)


def saved(trained: torch.nn.Module, adapter: Any, tokenizer: Any, folder: Path) -> None:
    """The trained model (LoRA merged in) and its tokenizer, as a model directory at `folder`."""
    model = adapter.merge_and_unload() if adapter is not None else trained
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def fit_loop(
    trained: torch.nn.Module,
    items: Sequence[T],
    validation: Sequence[T],
    config: TrainingConfig,
    loss_of: Callable[[Sequence[T]], torch.Tensor],
    *,
    on_progress: Callable[[Progress], None],
    should_stop: Callable[[], bool],
    head: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], list[float]]:
    """AdamW with linear warm-up and decay over shuffled batches of `items`, `config.epochs`
    times: the loss history (with the validation loss at the start and after each epoch) and
    each epoch's seconds. Parameters named in `head` (new ones, a name part each) learn at
    `config.head_learning_rate`. Stops at a progress report when `should_stop()` says so."""

    def validation_loss() -> dict[str, float]:
        if not validation:
            return {}
        trained.eval()
        with torch.no_grad():
            losses = [
                float(loss_of(validation[i : i + config.batch_size]))
                for i in range(0, len(validation), config.batch_size)
            ]
        return {"validation_loss": round(float(np.mean(losses)), 4)}

    generator = np.random.default_rng(config.seed)
    total = math.ceil(len(items) / config.batch_size) * config.epochs
    groups: dict[bool, list[torch.nn.Parameter]] = {True: [], False: []}
    for name, parameter in trained.named_parameters():
        if parameter.requires_grad:
            groups[bool(set(name.split(".")) & set(head))].append(parameter)
    optimizer = torch.optim.AdamW(
        [
            {"params": groups[False], "lr": config.learning_rate},
            {"params": groups[True], "lr": config.head_learning_rate},
        ],
        weight_decay=config.weight_decay,
    )
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * config.warmup_share), total)
    history: list[dict[str, Any]] = [{"step": 0, "epoch": 0, **validation_loss()}]
    steps = Steps(trained, optimizer, schedule, total, history, on_progress, should_stop)
    epoch_seconds = []
    for epoch in range(1, config.epochs + 1):
        trained.train()
        started = time.perf_counter()
        order = generator.permutation(len(items))
        for start in range(0, len(order), config.batch_size):
            steps.take(loss_of([items[i] for i in order[start : start + config.batch_size]]), epoch)
        epoch_seconds.append(round(time.perf_counter() - started, 2))
        steps.flush(epoch)
        history.append({"step": steps.step, "epoch": epoch, **validation_loss()})
        logger.info("epoch %d: %.1f s, %s", epoch, epoch_seconds[-1], history[-1])
        on_progress(Progress(epoch, steps.step, total, None, history))
    return history, epoch_seconds


def lora_or_full(
    model: Any, config: TrainingConfig, *, modules_to_save: Sequence[str] = ()
) -> tuple[torch.nn.Module, Any]:
    """The model with every weight trainable (full), or wrapped with LoRA adapters (and the
    adapter, to merge once trained)."""
    if config.method == "full":
        model.requires_grad_(True)
        return model, None
    if config.method != "lora":
        raise TrainingError(f"a retriever is trained with lora or full, not {config.method}", field="method")
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        modules_to_save=list(modules_to_save) or None,
    )
    try:
        adapted = get_peft_model(model, lora)
    except ValueError as error:
        raise TrainingError(f"LoRA cannot adapt this model: {error}", field="lora_target_modules") from error
    return adapted, adapted
