"""icl (in-context learning): for each text, its nearest labelled examples (retrieved from pgvector
like knn's) are shown to a generative model as a conversation, and its reply must be one of the
labels. A reply that names none is no answer (the prediction abstains). The reply's probability
under the model, where the backend gives it, is the prediction's confidence.

The generative model is the bundled SmolLM2 (offline) or the configured answer backend when
that is an OpenAI-compatible server or a local transformers model."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.generation.base import Completer, Completion
from assistant.training.config import ConfigError
from assistant.training.techniques import Fitted, Job, Scores
from assistant.training.techniques.base import Retrieving, training_indexed
from assistant.training.techniques.examples import index_bytes, nearest

MAX_TEXT_CHARS = 600  # of each example and of the text, in the prompt
REPLY_TOKENS = 16
USAGE_CALLS = 1000  # generations whose cost `usage` reports (a serving process keeps no more)


def completer(backend: str) -> Completer:
    if backend == "smollm2":
        from assistant.generation.local import bundled

        return bundled()
    from assistant.generation import backend as configured

    chosen = configured()
    if not hasattr(chosen, "complete"):
        raise ConfigError(
            f"icl needs a generative backend; FINASSIST_GENERATION_BACKEND is {chosen.name!r} "
            "(use openai or transformers, or icl_backend=smollm2)",
            field="icl_backend",
        )
    complete: Completer = chosen  # type: ignore[assignment]
    return complete


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


def parsed(reply: str, labels: Sequence[str]) -> int | None:
    """The label a reply names: all of it, else the longest label it contains; None if none."""
    said = _normal(reply)
    names = {i: _normal(label) for i, label in enumerate(labels)}
    for i, name in names.items():
        if said == name:
            return i
    inside = [(len(name), i) for i, name in names.items() if name and f" {name} " in f" {said} "]
    return max(inside)[1] if inside else None


def messages(
    text: str, shots: Sequence[tuple[str, str]], labels: Sequence[str], description: str
) -> list[dict[str, str]]:
    task = f"{description} " if description else ""
    conversation = [
        {
            "role": "system",
            "content": f"{task}Classify each text. Answer with exactly one of these labels and "
            f"nothing else: {', '.join(labels)}.",
        }
    ]
    for example, label in shots:
        conversation.append({"role": "user", "content": example[:MAX_TEXT_CHARS]})
        conversation.append({"role": "assistant", "content": label})
    conversation.append({"role": "user", "content": text[:MAX_TEXT_CHARS]})
    return conversation


class Icl(Retrieving):
    def __init__(self, manifest: dict[str, Any]) -> None:
        super().__init__(manifest)
        self.shots = int(manifest["shots"])
        self.backend = str(manifest["backend"])
        self.description = str(manifest.get("description", ""))
        self._calls: deque[Completion] = deque(maxlen=USAGE_CALLS)
        self._lock = threading.Lock()

    def scores(self, texts: Sequence[str]) -> Scores:
        labels, model = self.labels, completer(self.backend)
        embeddings = self.embed(texts)
        neighbours = nearest(self.index_id, embeddings, self.shots)
        probabilities = np.zeros((len(texts), len(labels)), dtype=np.float32)
        for row, text in enumerate(texts):
            # The nearest example last: small models lean on what they read most recently.
            shots = list(zip(neighbours.texts[row], neighbours.labels[row], strict=True))[::-1]
            reply = model.complete(messages(text, shots, labels, self.description), max_tokens=REPLY_TOKENS)
            with self._lock:
                self._calls.append(reply)
            chosen = parsed(reply.text, labels)
            if chosen is None:
                continue
            confidence = reply.probability if reply.probability is not None else 1.0
            probabilities[row] = (1 - confidence) / max(len(labels) - 1, 1)
            probabilities[row, chosen] = confidence
        return Scores(probabilities, embeddings, labels)

    def usage(self) -> dict[str, Any]:
        """Per-call latency and tokens of this process's latest USAGE_CALLS generations."""
        with self._lock:
            calls = list(self._calls)
        if not calls:
            return {}
        seconds = np.array([c.seconds for c in calls])
        return {
            "calls": len(calls),
            "call_seconds_p50": round(float(np.percentile(seconds, 50)), 4),
            "call_seconds_p95": round(float(np.percentile(seconds, 95)), 4),
            "prompt_tokens_mean": round(float(np.mean([c.prompt_tokens for c in calls])), 1),
            "completion_tokens_mean": round(float(np.mean([c.completion_tokens for c in calls])), 2),
            "model": completer(self.backend).model_name,
        }


def fit(job: Job) -> Fitted:
    completer(job.config.icl_backend)  # refuse a backend that cannot complete before embedding
    index = training_indexed(job)
    manifest = {
        "index": index.pk,
        "shots": job.config.icl_shots,
        "backend": job.config.icl_backend,
        "description": job.spec.description,
    }
    return Fitted(
        Icl({"labels": list(job.spec.labels), "base_model": job.config.base_model, **manifest}),
        manifest,
        stored_bytes=index_bytes(index.pk),
    )


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Icl:
    return Icl(manifest)
