"""A small classification task and a tiny random encoder, for training tests (worker processes too)."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from pathlib import Path
from typing import Any

from assistant.core.hf import BUNDLED_MODEL, model_path
from assistant.training.registry import Example, TaskSpec, task_register

TOPICS = {
    "card": ["card", "debit card", "credit card", "contactless card", "card pin", "virtual card"],
    "loan": ["loan", "mortgage", "loan repayment", "interest on my loan", "loan application", "overdraft"],
    "fraud": ["fraud", "scam", "stolen money", "suspicious payment", "phishing email", "fake invoice"],
}
TEMPLATES = [
    "I have a question about my {}",
    "help with the {} please",
    "what is happening with the {}",
    "my {} is a problem",
    "can you check the {}",
    "tell me about the {}",
    "{} issue since yesterday",
    "there is something wrong with the {}",
]
ENDINGS = ["", " urgently", " for my account", " today"]


def tone_examples(labels: tuple[str, ...] = tuple(TOPICS)) -> list[Example]:
    return [
        Example(template.format(phrase) + ending, label)
        for label in labels
        for phrase, template, ending in itertools.product(TOPICS[label], TEMPLATES, ENDINGS)
    ]


TOPIC_TASK = TaskSpec(
    name="test-topic",
    labels=tuple(TOPICS),
    examples=tone_examples,
    description="Which banking topic a message is about (a test task).",
    defaults={"epochs": 2, "batch_size": 16, "max_tokens": 24, "learning_rate": 1e-3},
)
task_register(TOPIC_TASK)


def prepared_count(version_id: int) -> int:
    from assistant.training.models import ModelVersion

    return ModelVersion.objects.get(pk=version_id).metrics.get("prepared", 0)


def _prepare(version: Any) -> None:
    """The test task's preparation: it counts itself in the version's metrics."""
    from assistant.training.models import ModelVersion

    stored = ModelVersion.objects.get(pk=version.pk)
    stored.metrics["prepared"] = stored.metrics.get("prepared", 0) + 1
    stored.save(update_fields=["metrics"])


# The same task with something to prepare once a version is activated (as claims-fraud and
# aml-typology have their combinations).
PREPARED_TASK = dataclasses.replace(TOPIC_TASK, name="test-topic-prepared", prepare=_prepare)
task_register(PREPARED_TASK)


def tiny_encoder(path: Path) -> Path:
    """A randomly initialised one-layer BERT with the bundled model's tokenizer."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)  # the same encoder in every session and process, so results repeat
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    BertModel(config).save_pretrained(path)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(model_path(BUNDLED_MODEL) / name, path / name)
    return path
