import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from lab.export import document, markdown
from lab.knowledge import KNOWLEDGE_TECHNIQUES, arm_run, knowledge_study_create
from lab.management.commands.compare_techniques import answers_and_options, study_arguments
from lab.services import study_finish


class Command(BaseCommand):
    help = (
        "Compare retrieval (RAG) with knn and a closed-book fine-tuned classifier on a collection's "
        "questions, in this process (a knowledge study, as /lab/ runs on workers): top-1, recall@5, "
        "nDCG@10, latency, fit time, and how long each serves revised and new entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collection")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument(
            "--questions",
            type=Path,
            help='JSONL of {"query", "relevant", "split"?} (evaluate_retrieval format)',
        )
        source.add_argument("--dataset", help="the questions of a dataset (ask_cfpb, financebench)")
        parser.add_argument("--techniques", nargs="+", choices=KNOWLEDGE_TECHNIQUES)
        parser.add_argument("--seed", type=int, default=42)
        study_arguments(parser)

    def handle(
        self,
        *args: Any,
        collection: str,
        questions: Path | None,
        dataset: str | None,
        techniques: list[str] | None,
        answer: list[str],
        option: list[str],
        seed: int,
        json_out: Path | None,
        **options: Any,
    ) -> None:
        answers, per_technique = answers_and_options(answer, option, KNOWLEDGE_TECHNIQUES)
        rows = _questions(questions) if questions is not None else None
        try:
            study = knowledge_study_create(
                collection=collection, questions=rows, dataset=dataset or "", techniques=techniques,
                options=per_technique, answers=answers, seed=seed, dispatch=False,
            )  # fmt: skip
        except ApplicationError as error:
            raise CommandError(error.message) from error
        plan = study.plan
        self.stdout.write(
            f"study {study.pk} of {collection}: {', '.join(study.techniques)}; {len(plan['questions'])} "
            f"questions; the change revises {len(plan['revised'])} entries and adds {len(plan['added'])}"
        )
        for arm in study.arms.all():

            def said(stage: str, technique: str = arm.technique) -> None:
                self.stdout.write(f"[{technique}] {stage}")

            arm_run(arm.pk, on_stage=said)
            arm.refresh_from_db()
            if arm.error:
                self.stderr.write(f"[{arm.technique}] {arm.status}: {arm.error}")
        study = study_finish(study.pk)
        self.stdout.write(markdown(study))
        if json_out is not None:
            json_out.write_text(json.dumps(document(study), indent=2) + "\n")
            self.stdout.write(f"written to {json_out}")


def _questions(path: Path) -> list[Any]:
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: not JSON lines ({error})") from None
