"""What a fit costs: wall seconds and the process's peak resident memory while it ran."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SAMPLE_S = 0.05


@dataclass
class Cost:
    seconds: float = 0.0
    peak_memory_bytes: int = 0


@contextmanager
def measured() -> Iterator[Cost]:
    """Time the block and sample this process's resident memory (host memory: a GPU's is not in it)."""
    import psutil

    process, cost, done = psutil.Process(), Cost(), threading.Event()
    cost.peak_memory_bytes = process.memory_info().rss

    def sample() -> None:
        while not done.wait(SAMPLE_S):
            cost.peak_memory_bytes = max(cost.peak_memory_bytes, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    try:
        yield cost
    finally:
        done.set()
        sampler.join()
        cost.seconds = round(time.perf_counter() - started, 3)
        cost.peak_memory_bytes = max(cost.peak_memory_bytes, process.memory_info().rss)
