"""Foundation: database round trip, pgvector HNSW query, Celery task round trip and throughput.

    .venv/bin/python bench/foundation.py [--tasks 500]

Uses the benchmark database (finassist_bench, migrated here) and the real Redis; starts its
own worker on a private queue.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from assistant.core.tasks import system_probe  # noqa: E402
from tests.support.processes import Worker, project_env  # noqa: E402


def database_round_trip(n: int) -> dict[str, float]:
    samples = []
    with connection.cursor() as cursor:
        for _ in range(n):
            started = time.perf_counter()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            samples.append(time.perf_counter() - started)
    return summary_ms(samples)


def hnsw_query(rows: int, queries: int) -> dict[str, object]:
    """Top-10 cosine neighbours among `rows` random 384-d vectors (a sanity figure, not recall).

    An unlogged table, not a temporary one: temporary tables live in the session's small
    temp_buffers, not in shared buffers where the application's indexes are.
    """
    rng = np.random.default_rng(0)
    literal = lambda v: "[" + ",".join(f"{x:.5f}" for x in v) + "]"  # noqa: E731
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_items")
        cursor.execute("CREATE UNLOGGED TABLE bench_items (id int, embedding vector(384))")
        cursor.execute(
            "INSERT INTO bench_items SELECT i, (SELECT array_agg(random())::vector(384)"
            " FROM generate_series(1, 384) WHERE i > 0) FROM generate_series(1, %s) i",
            [rows],
        )
        started = time.perf_counter()
        cursor.execute("CREATE INDEX ON bench_items USING hnsw (embedding vector_cosine_ops)")
        build_s = time.perf_counter() - started
        samples = []
        for vector in rng.random((queries, 384)):
            started = time.perf_counter()
            cursor.execute(
                "SELECT id FROM bench_items ORDER BY embedding <=> %s::vector LIMIT 10", [literal(vector)]
            )
            cursor.fetchall()
            samples.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_items")
    return {"rows": rows, "index_build_s": round(build_s, 2), **summary_ms(samples)}


def celery(tasks: int) -> dict[str, object]:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as logs:
        worker = Worker(queue, Path(logs), project_env())
        try:
            system_probe.apply_async(queue=queue).get(timeout=30)  # warm the pool
            samples = []
            for _ in range(100):
                started = time.perf_counter()
                system_probe.apply_async(queue=queue).get(timeout=30)
                samples.append(time.perf_counter() - started)
            started = time.perf_counter()
            results = [system_probe.apply_async(queue=queue) for _ in range(tasks)]
            for result in results:
                result.get(timeout=120)
            elapsed = time.perf_counter() - started
        finally:
            worker.stop()
    return {
        "round_trip": summary_ms(samples),
        "throughput": {
            "tasks": tasks,
            "seconds": round(elapsed, 2),
            "tasks_per_s": round(tasks / elapsed, 1),
        },
        "worker": "prefork, concurrency 1, task touches the database twice",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    write_result(
        "foundation",
        {
            "database_round_trip": database_round_trip(2000),
            "pgvector_hnsw_top10": hnsw_query(rows=20000, queries=200),
            "celery": celery(args.tasks),
        },
    )


if __name__ == "__main__":
    main()
