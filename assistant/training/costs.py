"""What a fit costs (wall seconds and the process's peak resident memory while it ran), and what
serving costs (latency percentiles)."""

from __future__ import annotations

import statistics
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


def summary_ms(samples: list[float]) -> dict[str, float]:
    """p50/p95/mean of durations given in seconds, in milliseconds."""
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }
