"""What a fit costs (wall seconds and the process's peak resident memory while it ran), and what
serving costs (latency percentiles)."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

SAMPLE_S = 0.05
WARM_UP = 3  # single texts scored before any is timed
BATCH = 64


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


def serving_speed(
    score: Callable[[list[str]], object], texts: Sequence[str], *, singles: int = 100, batch_texts: int = 512
) -> dict[str, float]:
    """Latency of `score` on single texts (p50/p95/mean over the first `singles`, after a warm-up)
    and, where `batch_texts` is not 0, its throughput on the first `batch_texts` in batches of BATCH."""
    for text in texts[:WARM_UP]:
        score([text])
    samples = []
    for text in texts[:singles]:
        started = time.perf_counter()
        score([text])
        samples.append(time.perf_counter() - started)
    speed = summary_ms(samples)
    batched = list(texts[:batch_texts])
    if batched:
        started = time.perf_counter()
        for i in range(0, len(batched), BATCH):
            score(batched[i : i + BATCH])
        speed["texts_per_s"] = round(len(batched) / (time.perf_counter() - started), 1)
    return speed
