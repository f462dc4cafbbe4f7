"""Decision-lab studies on this project's classification tasks (docs/decisions.md quotes them).

    .venv/bin/python bench/lab.py [--tasks ...] [--techniques ...] [--option lora.epochs=1] [--curve 8 32 128]
    .venv/bin/python bench/lab.py --tasks --knowledge [--techniques rag knn lora]

Each task is studied as `manage.py compare_techniques` does, in this process, in the benchmark
database (finassist_bench); bench/results/lab.json keeps each study's document (figures of
every technique, the test split's scores, the recommendation for the default questionnaire).
`--knowledge` also runs the knowledge study of Ask CFPB (`manage.py compare_knowledge ask-cfpb
--dataset ask_cfpb`), kept under "ask-cfpb-knowledge".
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
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument("--knowledge", action="store_true", help="also the Ask CFPB knowledge study")
    parser.add_argument("--techniques", nargs="+")
    parser.add_argument("--option", action="append", default=[], metavar="TECHNIQUE.NAME=VALUE")
    parser.add_argument("--curve", type=int, nargs="+")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    given = [*(["--techniques", *args.techniques] if args.techniques else [])]
    given += [part for option in args.option for part in ("--option", option)]
    for task in args.tasks:
        ensure_task(task)
        curve = ["--curve", *map(str, args.curve)] if args.curve else []
        study("compare_techniques", [task, *given, *curve], task)
    if args.knowledge:
        call_command("load_dataset", "ask_cfpb", verbosity=0)
        study("compare_knowledge", ["ask-cfpb", "--dataset", "ask_cfpb", *given], "ask-cfpb-knowledge")


def study(command: str, arguments: list[str], name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "study.json"
        printed = io.StringIO()
        call_command(command, *arguments, "--json", str(out), stdout=printed)
        print(printed.getvalue(), flush=True)
        write_result("lab", {name: json.loads(out.read_text())})


if __name__ == "__main__":
    main()
