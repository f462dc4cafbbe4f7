"""A local causal language model (transformers), optionally with a LoRA adapter, for GPU workers.

The model and adapter load once per process. The adapter is a directory or a model version
from the registry (`registry:<id>`), whose files must match the registered checksum.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from django.conf import settings

from assistant.core.privacy import Masker
from assistant.generation.base import GenerationUnavailable, Prompt, prompt_text


def adapter_path(reference: str) -> Path:
    """The adapter directory a FINASSIST_GENERATION_ADAPTER value names, checked."""
    if reference.startswith("registry:"):
        from assistant.training.modeling import checksum
        from assistant.training.models import ModelVersion

        version = ModelVersion.objects.filter(pk=reference.removeprefix("registry:")).first()
        if version is None:
            raise GenerationUnavailable(f"no model version {reference} in the registry")
        path = Path(version.artefact_path)
        if not path.is_dir() or checksum(path) != version.artefact_checksum:
            raise GenerationUnavailable(f"adapter {reference} does not match its registered checksum")
        return path
    path = Path(reference)
    if not (path / "adapter_config.json").is_file():
        raise GenerationUnavailable(f"{reference} is not a LoRA adapter directory (no adapter_config.json)")
    return path


class LocalCausalModel:
    name = "transformers"

    def __init__(self, model_dir: str, adapter: str = "", *, max_tokens: int) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from assistant.core.hf import compute_dtype, torch_device

        if not (Path(model_dir) / "config.json").is_file():
            raise GenerationUnavailable(
                f"FINASSIST_GENERATION_MODEL={model_dir!r} is not a local Hugging Face model directory"
            )
        self.device = torch_device()
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model: Any = AutoModelForCausalLM.from_pretrained(
            model_dir, dtype=compute_dtype(settings.TORCH_DTYPE, self.device)
        )
        if adapter:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, adapter_path(adapter))
        self.model = model.to(self.device).eval()
        self.model_name = Path(model_dir).name + (f"+{Path(adapter).name}" if adapter else "")
        self.max_tokens = max_tokens
        self._torch = torch

    @classmethod
    def from_settings(cls) -> LocalCausalModel:
        if not settings.GENERATION_MODEL:
            raise GenerationUnavailable(
                "FINASSIST_GENERATION_MODEL is not set: which local model should answer?"
            )
        return cls(
            settings.GENERATION_MODEL,
            settings.GENERATION_ADAPTER or "",
            max_tokens=settings.GENERATION_MAX_TOKENS,
        )

    def _inputs(self, prompt: Prompt) -> Any:
        content = prompt_text(prompt)
        if getattr(self.tokenizer, "chat_template", None):
            messages = [
                {"role": "system", "content": prompt.instruction},
                {"role": "user", "content": content},
            ]
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = f"{prompt.instruction}\n\n{content}\n\nAnswer:"
        return self.tokenizer(text, return_tensors="pt").to(self.device)

    def stream(self, prompt: Prompt, *, masker: Masker | None = None) -> Generator[str, None, None]:
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=settings.GENERATION_TIMEOUT
        )
        inputs = self._inputs(prompt)
        pad = (
            self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else self.tokenizer.eos_token_id
        )
        failure: list[Exception] = []

        def generate() -> None:
            try:
                with self._torch.inference_mode():
                    self.model.generate(
                        **inputs,
                        max_new_tokens=self.max_tokens,
                        max_time=settings.GENERATION_MAX_SECONDS,
                        do_sample=False,
                        streamer=streamer,
                        pad_token_id=pad,
                    )
            except Exception as error:  # noqa: BLE001 - handed to the caller's thread
                failure.append(error)
                streamer.end()

        worker = threading.Thread(target=generate, daemon=True)
        worker.start()
        try:
            yield from (piece for piece in streamer if piece)
        except queue.Empty as silence:
            raise GenerationUnavailable(
                f"the local model gave no token for {settings.GENERATION_TIMEOUT:g} s "
                "(FINASSIST_GENERATION_TIMEOUT)"
            ) from silence
        worker.join()
        if failure:
            raise GenerationUnavailable(f"the local model failed: {failure[0]}") from failure[0]
