"""Precision, recall and F1@k of the keyphrase ranker on 500N-KPCrowd, a public proxy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Evaluate keyword extraction (P/R/F1@k) on 500N-KPCrowd, overall and for the business category."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            type=Path,
            help="JSONL with text and keyphrases (default: kpcrowd_500n/train.jsonl in the datasets folder)",
        )
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--json", type=Path, help="also write the scores to this file")

    def handle(self, *args: Any, **options: Any) -> None:
        from advisory.keywords import keyphrases_evaluate

        default = Path("kpcrowd_500n") / "train.jsonl"
        path = options["data"] or settings.DATASETS_DIR / default
        if not path.is_file():
            raise CommandError(
                f"{path}: no such file (500N-KPCrowd lives in the datasets folder; see --data)"
            )
        if options["k"] < 1:
            raise CommandError("--k must be at least 1")
        rows = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            try:
                row = json.loads(line)
                rows.append((row.get("category", ""), row["text"], row["keyphrases"]))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise CommandError(
                    f"{path}, line {number}: expected text and keyphrases ({error})"
                ) from error
        report: dict[str, Any] = {"data": str(options["data"] or default), "k": options["k"]}
        for name, subset in (("all", rows), ("business", [r for r in rows if r[0] == "business"])):
            if subset:
                scores = keyphrases_evaluate([(text, gold) for _, text, gold in subset], k=options["k"])
                report[name] = scores.__dict__
                self.stdout.write(
                    f"{name}: {scores.documents} documents  P@{options['k']} {scores.precision:.3f}  "
                    f"R@{options['k']} {scores.recall:.3f}  F1@{options['k']} {scores.f1:.3f}"
                )
        if options["json"]:
            options["json"].write_text(json.dumps(report, indent=2) + "\n")
