import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.training.config import METHODS
from lab.export import document, markdown
from lab.services import CURVE_SIZES, FITTED, arm_fit, arm_measure, study_create, study_finish


def answers_and_options(
    answer: list[str], option: list[str], techniques: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The questionnaire's answers (NAME=VALUE) and the training options of each technique
    (TECHNIQUE.NAME=VALUE) given on the command line."""
    per_technique: dict[str, dict[str, Any]] = {}
    for key, value in _pairs(option, "--option").items():
        technique, dot, name = key.partition(".")
        if not dot or technique not in techniques:
            raise CommandError(
                f"--option {key}: expected TECHNIQUE.NAME with a technique of {', '.join(techniques)}"
            )
        per_technique.setdefault(technique, {})[name] = value
    return _pairs(answer, "--answer"), per_technique


def study_arguments(parser: CommandParser) -> None:
    """The questionnaire's answers, the techniques' options and the JSON output, as both
    comparison commands take them."""
    parser.add_argument(
        "--answer", action="append", default=[], metavar="NAME=VALUE",
        help="a questionnaire answer (latency_budget_ms=100, min_accuracy=0.9, change=weekly, ...)",
    )  # fmt: skip
    parser.add_argument(
        "--option", action="append", default=[], metavar="TECHNIQUE.NAME=VALUE",
        help="a training option of one technique (lora.epochs=1)",
    )  # fmt: skip
    parser.add_argument("--json", dest="json_out", type=Path, help="write the study (with `recommendation`)")


def _pairs(given: list[str], what: str) -> dict[str, str]:
    found = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(f"{what} {item!r}: expected NAME=VALUE")
        found[name] = value
    return found


class Command(BaseCommand):
    help = (
        "Compare techniques on a task in this process (a study, as /lab/ runs on workers): quality "
        "on the validation and a reserved test split, speed, cost, learning curve, update cost, "
        "forgetting; then recommend one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task")
        parser.add_argument("--techniques", nargs="+", choices=METHODS, help="default: all that run here")
        parser.add_argument("--curve", type=int, nargs="+", help="examples a label at each curve point")
        study_arguments(parser)

    def handle(
        self,
        *args: Any,
        task: str,
        techniques: list[str] | None,
        answer: list[str],
        option: list[str],
        curve: list[int] | None,
        json_out: Path | None,
        **options: Any,
    ) -> None:
        answers, per_technique = answers_and_options(answer, option, METHODS)
        try:
            study = study_create(
                task=task, techniques=techniques, answers=answers, options=per_technique,
                curve_sizes=tuple(curve) if curve else CURVE_SIZES, dispatch=False,
            )  # fmt: skip
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"study {study.pk} of {task}: {', '.join(study.techniques)}; "
            f"label {study.held_out_label!r} held out for the update cost"
        )
        for arm in study.arms.all():

            def said(stage: str, technique: str = arm.technique) -> None:
                self.stdout.write(f"[{technique}] {stage}")

            outcome = arm_fit(arm.pk, on_stage=said)
            if outcome == FITTED:
                self.stdout.write(f"[{arm.technique}] measuring")
                arm_measure(arm.pk)
            arm.refresh_from_db()
            if arm.error:
                self.stderr.write(f"[{arm.technique}] {arm.status}: {arm.error}")
        study = study_finish(study.pk)
        self.stdout.write(markdown(study))
        if json_out is not None:
            json_out.write_text(json.dumps(document(study), indent=2) + "\n")
            self.stdout.write(f"written to {json_out}")
