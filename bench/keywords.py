"""Keyword extraction on 500N-KPCrowd (the public proxy for client letters): P/R/F1@10.

    .venv/bin/python bench/keywords.py

Runs `manage.py evaluate_keywords` on the shared documents (all, and the business category)
and keeps its report, with the time it took, in bench/results/keywords.json.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from common import django_setup, write_result

django_setup()

from django.core.management import call_command  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "keywords.json"
        started = time.perf_counter()
        call_command("evaluate_keywords", "--json", str(out))
        report = json.loads(out.read_text())
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_result("keywords", {"kpcrowd_at_10": report})


if __name__ == "__main__":
    main()
