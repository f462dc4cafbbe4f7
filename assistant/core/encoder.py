"""Sentence embeddings from a local Hugging Face encoder, loaded once per process.

Models are named as `assistant.core.hf` finds them (the bundled all-MiniLM-L6-v2 or a local
directory), or `multilingual-e5-small`, run by its own engine (`assistant.core.e5`); nothing is
downloaded. Pooling and normalisation follow
the model's sentence-transformers configuration when it has one (mean pooling and unit
length otherwise). On a processor that computes bfloat16 natively the weights run in
bfloat16: faster than float32, with vectors all but the same (docs/retrieval.md, What the
processor allows).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from assistant.core.e5 import MULTILINGUAL_MODEL, SIMILARITY_RELATED, SIMILARITY_UNRELATED, E5Embedder
from assistant.core.hf import (
    SentenceConfig,
    compute_dtype,
    length_batches,
    model_path,
    pool,
    stacked,
    torch_device,
)
from assistant.core.language import LANGUAGES, Language

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("finassist.core")


class Tokenizer(Protocol):
    def count(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without the model's special tokens."""

    def split(self, text: str, max_tokens: int) -> list[str]:
        """The text cut at word boundaries into pieces of at most `max_tokens` tokens."""


class TextEncoder(Protocol):
    """What the knowledge base, the chat and the classifiers ask of a sentence encoder."""

    name: str
    device: str
    dimensions: int
    max_tokens: int

    @property
    def tokenizer(self) -> Tokenizer: ...

    def embed_query(self, text: str) -> np.ndarray:
        """What is searched for."""

    def embed(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """What is searched: unit-length float32 vectors, one row per text, in the order given."""

    def embed_batches(
        self, texts: Sequence[str], *, batch_size: int | None = None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(indices into `texts`, their vectors) a batch at a time."""


class HFTokenizer:
    """The model's tokenizer, in the shape the chunker needs."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        # verbose=False: counting texts longer than the model's input is the point here.
        encoded = self._tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded]

    def split(self, text: str, max_tokens: int) -> list[str]:
        encoded = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets, words = encoded["offset_mapping"], encoded.word_ids()
        pieces, start, total = [], 0, len(offsets)
        while start < total:
            end = cut = min(start + max_tokens, total)
            # Back up to the start of a word, unless one word alone is longer than a chunk.
            while start + 1 < cut < total and words[cut] == words[cut - 1]:
                cut -= 1
            if cut == total or words[cut] != words[cut - 1]:
                end = cut
            pieces.append(text[offsets[start][0] : offsets[end - 1][1]].strip())
            start = end
        return [piece for piece in pieces if piece]


class _Wanted:
    """One text waiting in a `Coalescer`: its vector (or error) once embedded, or the turn to lead."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ready = threading.Event()
        self.leads = False
        self.vector: np.ndarray | None = None
        self.error: BaseException | None = None

    def result(self) -> np.ndarray:
        if self.error is not None:
            raise self.error
        assert self.vector is not None
        return self.vector


class Coalescer:
    """Texts asked for by threads at the same time are embedded in one forward pass.

    A short text costs a forward pass mostly in its fixed overhead (a batch of four queries takes
    about half again one query's time), so the web server's threads, each with one question, share
    passes: the first to ask embeds what is waiting; whoever asks meanwhile waits for the next pass,
    led by the first of them. Nobody waits for a batch to fill: alone, a text is embedded at once.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray]) -> None:
        self._embed = embed
        self._lock = threading.Lock()
        self._waiting: list[_Wanted] = []
        self._busy = False

    def __call__(self, text: str) -> np.ndarray:
        wanted = _Wanted(text)
        with self._lock:
            self._waiting.append(wanted)
            leads = wanted.leads = not self._busy
            self._busy = True
        if not leads:
            wanted.ready.wait()
            if not wanted.leads:
                return wanted.result()
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            for item, vector in zip(batch, self._embed([item.text for item in batch]), strict=True):
                item.vector = vector
        except BaseException as error:  # noqa: BLE001 - raised in every thread that asked
            for item in batch:
                item.error = error
        with self._lock:
            if self._waiting:
                self._waiting[0].leads = True
                self._waiting[0].ready.set()
            else:
                self._busy = False
        for item in batch:
            if item is not wanted:
                item.ready.set()
        return wanted.result()


class Embedder:
    def __init__(self, name: str) -> None:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per weight file, on every worker start
        path = model_path(name)
        self.name = name
        self.device = torch_device()
        self.dtype = compute_dtype(settings.TORCH_DTYPE, self.device)
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer = HFTokenizer(self._tokenizer)
        self._model = (
            AutoModel.from_pretrained(path, local_files_only=True, dtype=self.dtype).to(self.device).eval()
        )
        self.sentence = SentenceConfig.read(
            path,
            positions=self._model.config.max_position_embeddings,
            tokenizer_limit=self._tokenizer.model_max_length,
        )
        self.max_tokens = self.sentence.max_tokens
        self.dimensions = int(self._model.config.hidden_size)
        self._coalescer = Coalescer(self.embed)
        logger.info(
            "embedding model %s loaded on %s in %s", name, self.device, str(self.dtype).split(".")[-1]
        )

    def embed_query(self, text: str) -> np.ndarray:
        """One text's vector; threads asking at the same time share a forward pass (`Coalescer`)."""
        return self._coalescer(text)

    def embed(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        return stacked(self.embed_batches(texts, batch_size=batch_size), len(texts), self.dimensions)

    def embed_batches(
        self, texts: Sequence[str], *, batch_size: int | None = None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """(indices into `texts`, their vectors) a forward pass at a time, longest texts first."""
        import torch

        for indices, batch in length_batches(
            self._tokenizer,
            texts,
            batch_size=batch_size or settings.EMBEDDING_BATCH_SIZE,
            max_tokens=self.max_tokens,
            device=self.device,
        ):
            # Not held across the yield: the caller's code would run in inference mode.
            with torch.inference_mode():
                hidden = self._model(**batch).last_hidden_state
                pooled = pool(hidden, batch["attention_mask"], cls=self.sentence.cls_pooling).float()
                if self.sentence.normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                vectors = pooled.cpu().numpy()
            yield indices, vectors


_lock = threading.Lock()


@cache
def _load(name: str) -> TextEncoder:
    if name == MULTILINGUAL_MODEL:
        return E5Embedder()
    return Embedder(name)


def encoder(name: str) -> TextEncoder:
    """The process's embedder for a model, loaded on first use."""
    with _lock:
        return _load(name)


# all-MiniLM-L6-v2's mean similarities over the same pairs: the scale every search reports on,
# so that thresholds and fusion weights chosen with it hold for every model.
REFERENCE_UNRELATED = 0.184
REFERENCE_RELATED = 0.663


def similarity_scale(name: str) -> tuple[float, float]:
    """(scale, shift) taking a model's cosine similarity to the reference scale: the multilingual
    model's mean similarities of unrelated and of related pairs become MiniLM's."""
    if name != MULTILINGUAL_MODEL:
        return 1.0, 0.0
    scale = (REFERENCE_RELATED - REFERENCE_UNRELATED) / (SIMILARITY_RELATED - SIMILARITY_UNRELATED)
    return scale, REFERENCE_UNRELATED - SIMILARITY_UNRELATED * scale


def fine_tunable(name: str) -> bool:
    """Whether the platform can train a model: the multilingual one runs quantised in its own
    engine and can only be used as it is."""
    return name != MULTILINGUAL_MODEL


def model_checked(name: str) -> str:
    """The name, once it is known to name a model here (the multilingual one, the bundled one or
    a local Hugging Face directory), without loading it; `ModelNotFound` names the problem."""
    if name != MULTILINGUAL_MODEL:
        model_path(name)
    return name


def languages(*names: str) -> tuple[Language, ...]:
    """The languages models' vectors match questions in (any of them; an empty name is none): the
    multilingual model's across languages, every other model's English only."""
    return LANGUAGES if MULTILINGUAL_MODEL in names else ("en",)
