from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from assistant.core.errors import ApplicationError
from assistant.training.config import METHODS
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.selectors import task_active_version, task_tried
from assistant.training.services import run_execute, run_submit
from assistant.training.techniques import Progress


class Command(BaseCommand):
    help = (
        "Fit a technique (fine-tuning by default) to classification tasks, evaluate it and register a "
        "version of each: in this process, or with --queue on a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tasks", nargs="+", metavar="task", help="one or more tasks, fitted in turn")
        parser.add_argument("--method", choices=METHODS, default=None, help="default: the task's, else lora")
        parser.add_argument("--epochs", type=int)
        parser.add_argument("--data", type=Path, help="CSV or JSONL of examples instead of the task's own")
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--learning-rate", type=float)
        parser.add_argument("--max-tokens", type=int)
        parser.add_argument("--lora-r", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument(
            "--activate", choices=TrainingRun.Activation.values, default=TrainingRun.Activation.NEVER
        )
        parser.add_argument(
            "--unless-active",
            action="store_true",
            help="do nothing when the task already has an active version (make run trains once)",
        )
        parser.add_argument(
            "--unless-tried",
            action="store_true",
            help="do nothing when a run of this method for the task is queued, running or succeeded",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="queue the run for a worker (gpu queue for fine-tuning) and return at once",
        )

    def handle(self, *args: Any, tasks: list[str], **options: Any) -> None:
        for task in tasks:
            self._train(task, **options)

    def _train(self, task: str, *, data: Path | None, activate: str, queue: bool, **options: Any) -> None:
        if options["unless_active"] and task_active_version(task) is not None:
            self.stdout.write(f"{task} has an active version: nothing to train")
            return
        if options["unless_tried"] and task_tried(task, options["method"]):
            self.stdout.write(f"{task} has a {options['method'] or 'default'} run already: nothing to train")
            return
        if queue and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stdout.write(f"{task}: no worker to queue the run for (tasks run in-process); not queued")
            return
        names = ("method", "epochs", "batch_size", "learning_rate", "max_tokens", "lora_r", "seed")
        try:
            run = run_submit(
                task=task,
                options={name: options[name] for name in names},
                data_file=data,
                activation=activate,
                dispatch=queue,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        if queue:
            self.stdout.write(
                f"run {run.pk}: {run.task}, {run.method}, queued (activation: {run.activation})"
            )
            return
        self.stdout.write(f"run {run.pk}: {run.task}, {run.method}")
        with tqdm(total=0, unit="step", desc="training", file=self.stderr._out) as bar:

            def progress(report: Progress) -> None:
                bar.total = report.total_steps
                bar.set_postfix(epoch=report.epoch, loss=report.loss)
                bar.update(report.step - bar.n)

            run = run_execute(run.pk, on_progress=progress)
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")
        version = run.model_version
        metrics = version.metrics
        if "active" in metrics:
            self._retriever_summary(version, run)
            return
        threshold, kept = metrics["abstain"]["threshold"], metrics["abstain"]["on_validation"]
        self.stdout.write(
            f"version {version.pk} ({version.status}) on {metrics['examples']} held-out examples: "
            f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
            f"ECE {metrics['ece']:.4f}\n"
            f"abstains below confidence {threshold:.3f}: keeps {kept['coverage']:.1%} "
            f"at accuracy {kept['accuracy_kept']:.4f}\n"
            f"fitted in {version.fit_seconds:.1f} s on {run.device}"
        )

    def _retriever_summary(self, version: ModelVersion, run: TrainingRun) -> None:
        metrics, sizes = version.metrics, version.metrics["dataset_sizes"]
        active = metrics["active"]

        def scored(of: dict[str, float]) -> str:
            return "  ".join(f"{name} {of.get(name, 0):.4f}" for name in ("ndcg@10", "recall@10", "mrr@10"))

        self.stdout.write(
            f"version {version.pk} ({version.status}) on {sizes['validation_questions']} held-out questions, "
            f"over {sizes['passages']} passages:\n"
            f"  tuned:   {scored(metrics)}\n"
            f"  serving: {scored(active)} ({active['model']})\n"
            f"trained on {sizes['question_pairs']} question, {sizes['heading_pairs']} heading and "
            f"{sizes['helpful_pairs']} helpful-answer pairs in {version.fit_seconds:.1f} s on {run.device}"
        )
