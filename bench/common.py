"""Shared by the benchmark scripts: Django set-up, percentiles, the JSON result file."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# The benchmarks import the project and its test support (real worker and broker processes).
sys.path.insert(0, str(ROOT))

from assistant.training.costs import summary_ms as summary_ms  # noqa: E402  (for the scripts)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assistant.settings")
    import django

    django.setup()


def write_result(name: str, results: dict[str, Any]) -> Path:
    """Write (or update) bench/results/<name>.json; sections not measured this run are kept."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    previous = json.loads(path.read_text()) if path.is_file() else {}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    document = {
        "benchmark": name,
        "machine": {
            "processor": processor(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "measured_at": {**previous.get("measured_at", {}), **dict.fromkeys(results, now)},
        "results": {**previous.get("results", {}), **results},
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {path.relative_to(ROOT)}")
    return path


def processor() -> str:
    """The processor's model and its bfloat16 instructions: results differ a lot between hosts."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    names = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")]
    model = names[0] if names else "unknown"
    flags = sorted({flag for flag in ("avx512_bf16", "amx_bf16") if f" {flag}" in info})
    return f"{model} ({', '.join(flags) or 'no bfloat16 instructions'})"


def use_database(name: str) -> None:
    """Point this process at database `name` on the configured server, creating it if needed.

    Call before `django_setup()`: benchmarks load millions of rows and must not do it in
    the application's own database.
    """
    import psycopg
    from psycopg import sql

    from assistant import settings as configured
    from assistant.db.urls import database_url

    database = configured.DATABASES["default"]
    admin_url, url = database_url(database), database_url(database, name=name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    # Settings were read above to find the server; read them again with the new URL.
    del sys.modules["assistant.settings"]


def bootstrap_interval(differences: list[float], *, rounds: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of the mean of paired differences."""
    import numpy as np

    values = np.asarray(differences)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(rounds, len(values)))].mean(axis=1)
    return round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)
