"""Decision-lab studies on this project's classification tasks (docs/decisions.md quotes them).

    .venv/bin/python bench/lab.py [--tasks ...] [--techniques ...] [--option lora.epochs=1] [--curve 8 32 128]

Each task is studied as `manage.py compare_techniques` does, in this process, in the benchmark
database (finassist_bench); bench/results/lab.json keeps each study's document (figures of
every technique, the test split's scores, the recommendation for the default questionnaire).
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path

from common import django_setup, use_database, write_result
from files import FROM_FILES, ensure_task

use_database("finassist_bench")
django_setup()

from django.core.management import call_command  # noqa: E402

TASKS = ["chat-intent", "claims-line-of-business", "claims-route", "aml-typology", *FROM_FILES]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--techniques", nargs="+")
    parser.add_argument("--option", action="append", default=[], metavar="TECHNIQUE.NAME=VALUE")
    parser.add_argument("--curve", type=int, nargs="+")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    for task in args.tasks:
        ensure_task(task)
        arguments: list[str] = [task]
        if args.techniques:
            arguments += ["--techniques", *args.techniques]
        for option in args.option:
            arguments += ["--option", option]
        if args.curve:
            arguments += ["--curve", *map(str, args.curve)]
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "study.json"
            printed = io.StringIO()
            call_command("compare_techniques", *arguments, "--json", str(out), stdout=printed)
            print(printed.getvalue(), flush=True)
            write_result("lab", {task: json.loads(out.read_text())})


if __name__ == "__main__":
    main()
