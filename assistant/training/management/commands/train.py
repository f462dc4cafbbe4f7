from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from assistant.core.errors import ApplicationError
from assistant.training.config import METHODS
from assistant.training.engine import Progress
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import run_execute, run_submit


class Command(BaseCommand):
    help = "Fine-tune a registered classification task in this process, evaluate it and register a version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task")
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

    def handle(
        self, *args: Any, task: str, data: Path | None, activate: str, unless_active: bool, **options: Any
    ) -> None:
        active = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE)
        if unless_active and active.exists():
            self.stdout.write(f"{task} has an active version: nothing to train")
            return
        names = ("method", "epochs", "batch_size", "learning_rate", "max_tokens", "lora_r", "seed")
        try:
            run = run_submit(
                task=task,
                options={name: options[name] for name in names},
                data_file=data,
                activation=activate,
                dispatch=False,
            )
        except ApplicationError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"run {run.pk}: {run.task}, {run.method}, {run.config['epochs']} epoch(s)")
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
        threshold, kept = metrics["abstain"]["threshold"], metrics["abstain"]["on_validation"]
        self.stdout.write(
            f"version {version.pk} ({version.status}) on {metrics['examples']} held-out examples: "
            f"accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}, "
            f"ECE {metrics['ece']:.4f}\n"
            f"abstains below confidence {threshold:.3f}: keeps {kept['coverage']:.1%} "
            f"at accuracy {kept['accuracy_kept']:.4f}\n"
            f"seconds per epoch: {', '.join(map(str, metrics['epoch_seconds']))} on {run.device}"
        )
