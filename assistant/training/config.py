"""What a training run is asked to do: method and hyperparameters, validated before it is queued."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from assistant.core.encoder import fine_tunable
from assistant.core.errors import ApplicationError
from assistant.training.data import Narrowing

# Fine-tuning trains the encoder (on a gpu-queue worker); the other techniques fit in seconds to
# minutes around a frozen one, or prompt a generative model (on an inference worker).
FINE_TUNING = ("lora", "full", "qlora")
FROZEN = ("zero-shot", "knn", "probe", "tfidf", "icl")
METHODS = FROZEN + FINE_TUNING
DEFAULT_LEARNING_RATES = {"lora": 1e-3, "qlora": 1e-3, "full": 1e-4}
KNN_WEIGHTINGS = ("uniform", "similarity", "softmax")
ICL_BACKENDS = ("configured", "smollm2")
# Held-out examples an icl version is scored on, per split: each costs a generation.
ICL_EVALUATION_LIMIT = 200
MAX_TEST_SHARE = 0.5


class ConfigError(ApplicationError):
    pass


@dataclass(frozen=True)
class TrainingConfig:
    method: str = "lora"
    base_model: str = ""  # empty: FINASSIST_TRAINING_BASE_MODEL
    epochs: int = 3
    batch_size: int = 32
    # Encoder weights (full) or adapters (LoRA); the classification head has its own rate.
    learning_rate: float = 0.0  # 0: the method's default below
    head_learning_rate: float = 5e-3
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    max_tokens: int = 64
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    seed: int = 42
    # knn: neighbours and their weighting; 0 and "" choose them on the validation split.
    knn_k: int = 0
    knn_weighting: str = ""
    # probe and tfidf: the inverse regularisation strength of the logistic regression.
    regularization: float = 10.0
    # icl: labelled examples in each prompt, and which generative model answers ("configured":
    # FINASSIST_GENERATION_BACKEND, which must then be openai or transformers).
    icl_shots: int = 8
    icl_backend: str = "smollm2"
    # Held-out examples scored per split (a seeded sample); 0: all of them.
    evaluation_limit: int = 0
    # What a decision-lab study leaves out of the training split (`data.Narrowing`): a share
    # reserved as its test split, at most `per_label` examples a label (0: all), and one label cut
    # to `held_out_keep` examples.
    test_share: float = 0.0
    per_label: int = 0
    held_out_label: str = ""
    held_out_keep: int = 0

    @classmethod
    def build(cls, options: dict[str, Any], *, defaults: dict[str, Any] | None = None) -> TrainingConfig:
        """From task defaults overridden by `options` (None values ignored); every bad field named."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        merged = {**(defaults or {}), **{k: v for k, v in options.items() if v is not None}}
        unknown = sorted(set(merged) - set(names))
        if unknown:
            raise ConfigError(f"unknown training options: {', '.join(unknown)}", field=unknown[0])
        values: dict[str, Any] = {}
        for name, value in merged.items():
            kind: type[Any] = type(names[name].default)
            try:
                values[name] = tuple(value) if kind is tuple else kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} must be a {kind.__name__}, not {value!r}", field=name) from None
        config = cls(**values)
        config._check()
        if not config.base_model:
            config = dataclasses.replace(config, base_model=settings.TRAINING_BASE_MODEL)
        if config.method in FINE_TUNING and not fine_tunable(config.base_model):
            raise ConfigError(
                f"{config.base_model} runs quantised in its own engine and cannot be fine-tuned; "
                f"use it with knn, probe or zero-shot, or fine-tune a Hugging Face model",
                field="base_model",
            )
        if not config.learning_rate and config.method in FINE_TUNING:
            config = dataclasses.replace(config, learning_rate=DEFAULT_LEARNING_RATES[config.method])
        if config.method == "icl" and "evaluation_limit" not in merged:
            config = dataclasses.replace(config, evaluation_limit=ICL_EVALUATION_LIMIT)
        return config

    def _check(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"method must be one of {', '.join(METHODS)}, not {self.method!r}", field="method"
            )
        positive = ("epochs", "batch_size", "max_tokens", "lora_r", "lora_alpha", "icl_shots")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1", field=name)
        for name in (
            "learning_rate", "head_learning_rate", "weight_decay", "knn_k", "evaluation_limit", "per_label",
            "held_out_keep",
        ):  # fmt: skip
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative", field=name)
        for name in ("warmup_share", "lora_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 0 and below 1", field=name)
        if not 0 <= self.test_share <= MAX_TEST_SHARE:
            raise ConfigError(f"test_share must be from 0 to {MAX_TEST_SHARE}", field="test_share")
        if self.knn_weighting not in ("", *KNN_WEIGHTINGS):
            raise ConfigError(
                f"knn_weighting must be one of {', '.join(KNN_WEIGHTINGS)} (or empty: chosen)",
                field="knn_weighting",
            )
        if self.icl_backend not in ICL_BACKENDS:
            raise ConfigError(f"icl_backend must be one of {', '.join(ICL_BACKENDS)}", field="icl_backend")
        if self.regularization <= 0:
            raise ConfigError("regularization must be above 0", field="regularization")
        if self.method in ("lora", "qlora") and not self.lora_target_modules:
            raise ConfigError("LoRA needs at least one target module", field="lora_target_modules")

    def narrowing(self) -> Narrowing:
        return Narrowing(
            test_share=self.test_share,
            per_label=self.per_label,
            held_out_label=self.held_out_label,
            held_out_keep=self.held_out_keep,
            seed=self.seed,
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
