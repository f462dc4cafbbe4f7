"""Gunicorn configuration hooks (`--config python:assistant.gunicorn_hooks`).

Each web worker loads the embedding model in the background once it is up, so that the first
question it serves does not wait seconds for the model; the worker serves meanwhile, and a
request that needs the model first waits for the same load.

A worker serves requests on several threads at once, and there are several workers: each request
computes on FINASSIST_TORCH_THREADS threads, else on one, so that the cores are shared between
requests instead of every request spreading over all of them (torch's default) and the machine
running more compute threads than it has cores.
"""

from __future__ import annotations

import logging
import sys
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


def pre_request(worker: Any, request: Any) -> None:
    """In the thread that serves the request (a gthread worker's)."""
    torch = sys.modules.get("torch")  # a request that needs torch imports it; the others go without
    if torch is not None:
        from django.conf import settings

        threads = settings.TORCH_THREADS or 1
        if torch.get_num_threads() != threads:  # once a thread: setting it costs more than asking
            torch.set_num_threads(threads)
