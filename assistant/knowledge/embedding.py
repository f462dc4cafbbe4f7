"""The knowledge base's embedder: the process's encoder for a model (`assistant.core.encoder`),
checked to give the vectors the chunk table stores."""

from __future__ import annotations

from assistant.core.encoder import TextEncoder, encoder
from assistant.core.errors import ApplicationError
from assistant.knowledge.models import EMBEDDING_DIMENSIONS

__all__ = ["EmbeddingModelError", "TextEncoder", "embedder"]


class EmbeddingModelError(ApplicationError):
    pass


def embedder(name: str) -> TextEncoder:
    """The process's embedder for a model, loaded on first use; refused when its vectors are not
    the chunk table's size."""
    model = encoder(name)
    if model.dimensions != EMBEDDING_DIMENSIONS:
        raise EmbeddingModelError(
            f"embedding model {name!r} gives {model.dimensions} dimensions; "
            f"the chunk table stores {EMBEDDING_DIMENSIONS}"
        )
    return model
