"""What a training run is asked to do: method and hyperparameters, validated before it is queued."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from assistant.core.errors import ApplicationError

METHODS = ("lora", "full", "qlora")
DEFAULT_LEARNING_RATES = {"lora": 1e-3, "qlora": 1e-3, "full": 1e-4}


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
        if not config.learning_rate:
            config = dataclasses.replace(config, learning_rate=DEFAULT_LEARNING_RATES[config.method])
        return config

    def _check(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(
                f"method must be one of {', '.join(METHODS)}, not {self.method!r}", field="method"
            )
        positive = ("epochs", "batch_size", "max_tokens", "lora_r", "lora_alpha")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1", field=name)
        for name in ("learning_rate", "head_learning_rate", "weight_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative", field=name)
        for name in ("warmup_share", "lora_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 0 and below 1", field=name)
        if self.method != "full" and not self.lora_target_modules:
            raise ConfigError("LoRA needs at least one target module", field="lora_target_modules")

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}
