import time


def ms_since(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, to two places."""
    return round((time.perf_counter() - started) * 1000, 2)


def with_total(timings: dict[str, float]) -> dict[str, float]:
    """The stage timings with their sum as `total`."""
    stages = {stage: ms for stage, ms in timings.items() if stage != "total"}
    return {**stages, "total": round(sum(stages.values()), 2)}
