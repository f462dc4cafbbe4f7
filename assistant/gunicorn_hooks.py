"""Gunicorn configuration hooks (`--config python:assistant.gunicorn_hooks`).

Each web worker loads the embedding model in the background once it is up, so that the first
question it serves does not wait seconds for the model; the worker serves meanwhile, and a
request that needs the model first waits for the same load.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger("finassist.core")


def _warm() -> None:
    from django.conf import settings

    from assistant.knowledge.embedding import embedder

    try:
        embedder(settings.EMBEDDING_MODEL)
    except Exception:  # the first request that needs the model reports the error
        logger.warning("could not load the embedding model in advance", exc_info=True)


def post_worker_init(worker: Any) -> None:
    threading.Thread(target=_warm, name="warm-embedding-model", daemon=True).start()
