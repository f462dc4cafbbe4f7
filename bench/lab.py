"""Decision-lab studies on this project's classification tasks (docs/decisions.md quotes them).

    .venv/bin/python bench/lab.py [--tasks ...] [--techniques ...] [--option lora.epochs=1] [--curve 8 32 128]
    .venv/bin/python bench/lab.py --tasks [--techniques rag knn lora full]   (the knowledge study only)

Each task is studied as `manage.py compare_techniques` does, in this process, in the benchmark
database (finassist_bench); bench/results/lab.json keeps each study's document (figures of
every technique, the test split's scores, the recommendation for the default questionnaire).
It also runs the knowledge study of Ask CFPB (`manage.py compare_knowledge ask-cfpb --dataset
ask_cfpb`, kept under "ask-cfpb-knowledge") unless given `--no-knowledge`.
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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from lab.knowledge import KNOWLEDGE_TECHNIQUES  # noqa: E402

TASKS = ["chat-intent", "claims-line-of-business", "claims-route", "aml-typology", *FROM_FILES]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="*", default=TASKS)
    parser.add_argument(
        "--knowledge",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the Ask CFPB knowledge study too (when the datasets folder has it)",
    )
    parser.add_argument("--techniques", nargs="+")
    parser.add_argument("--option", action="append", default=[], metavar="TECHNIQUE.NAME=VALUE")
    parser.add_argument("--curve", type=int, nargs="+")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    options = [part for option in args.option for part in ("--option", option)]
    for task in args.tasks:
        ensure_task(task)
        chosen = ["--techniques", *args.techniques] if args.techniques else []
        curve = ["--curve", *map(str, args.curve)] if args.curve else []
        study("compare_techniques", [task, *chosen, *options, *curve], task)
    if args.knowledge and (settings.DATASETS_DIR / "ask_cfpb" / "kb_answers.jsonl").is_file():
        call_command("load_dataset", "ask_cfpb", verbosity=0)
        # rag and the techniques named that a knowledge study compares; none named: its defaults.
        known = [t for t in args.techniques or [] if t in KNOWLEDGE_TECHNIQUES]
        chosen = ["--techniques", *dict.fromkeys(["rag", *known])] if known else []
        relevant = [o for o in args.option if o.partition(".")[0] in KNOWLEDGE_TECHNIQUES]
        options = [part for option in relevant for part in ("--option", option)]
        study(
            "compare_knowledge",
            ["ask-cfpb", "--dataset", "ask_cfpb", *chosen, *options],
            "ask-cfpb-knowledge",
        )


def study(command: str, arguments: list[str], name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "study.json"
        printed = io.StringIO()
        call_command(command, *arguments, "--json", str(out), stdout=printed)
        print(printed.getvalue(), flush=True)
        write_result("lab", {name: json.loads(out.read_text())})


if __name__ == "__main__":
    main()
