import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.training.data import examples_read
from assistant.training.inference import active_version, classifier_for
from assistant.training.registry import task_get
from assistant.training.services import evaluate_examples


class Command(BaseCommand):
    help = "Accuracy and macro-F1 of a task's active model version on a labelled CSV or JSONL file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task")
        parser.add_argument("--data", type=Path, required=True)
        parser.add_argument("--text-column", help="default: the task's (usually text)")
        parser.add_argument(
            "--label-column",
            help="default: the task's (Banking77: category); a dataset's own label names are read "
            "where the task maps them (InsuranceQA's domains for claims-line-of-business)",
        )
        parser.add_argument("--json", dest="json_out", type=Path, help="also write the metrics to this file")

    def handle(
        self,
        *args: Any,
        task: str,
        data: Path,
        text_column: str | None,
        label_column: str | None,
        json_out: Path | None,
        **options: Any,
    ) -> None:
        try:
            spec = task_get(task)
            examples = examples_read(
                data,
                text_column=text_column or spec.text_column,
                label_column=label_column or spec.label_column,
                labels=spec.labels,
                aliases=spec.label_aliases,
            )
            version = active_version(task)
            metrics = evaluate_examples(classifier_for(version), examples)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        summary = {
            "task": task,
            "model_version": version.pk,
            "examples": metrics["examples"],
            "accuracy": metrics["accuracy"],
            "macro_f1": metrics["macro_f1"],
            "ece": metrics["ece"],
            "abstain": metrics["abstain"],
        }
        self.stdout.write(
            f"{task} version {version.pk} on {metrics['examples']} examples: "
            f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}"
        )
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(json.dumps({**summary, "per_class": metrics["per_class"]}, indent=2) + "\n")
