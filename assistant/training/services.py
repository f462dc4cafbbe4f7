"""Training runs, the model registry and drift audits: the operations, each in one place."""

from __future__ import annotations

import importlib.metadata
import logging
import random
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assistant.core.errors import ApplicationError, NotFound
from assistant.training.config import FINE_TUNING, TrainingConfig
from assistant.training.data import DataError, Splits, dataset_hash, examples_read
from assistant.training.dispatch import train_later, version_prepare_later
from assistant.training.models import (
    Dataset,
    DatasetRow,
    DriftAudit,
    ExampleIndex,
    ModelVersion,
    PredictionRecord,
    TaskDefinition,
    TrainingRun,
)
from assistant.training.registry import Example, TaskSpec, UnknownTask, task_get

logger = logging.getLogger("finassist.training")

LIBRARIES = ("torch", "transformers", "peft", "safetensors", "tokenizers")
DRIFT_COMPONENTS = 8
DRIFT_REFERENCE_TEXTS = 2000


class RegistryError(ApplicationError):
    pass


class TaskExists(ApplicationError):
    status = 409


def run_submit(
    *,
    task: str,
    options: dict[str, Any],
    data_file: Path | None = None,
    activation: str = TrainingRun.Activation.NEVER,
    user: User | None = None,
    dispatch: bool = True,
) -> TrainingRun:
    """Validate and record a run; with `dispatch`, queue it for a worker (fine-tuning on the `gpu`
    queue, other techniques on `inference`).

    Web requests dispatch (a web process never trains); `manage.py train` runs it itself.
    """
    spec = task_get(task)
    config = TrainingConfig.build(options, defaults=spec.defaults)
    if config.held_out_label and config.held_out_label not in spec.labels:
        raise ApplicationError(
            f"held_out_label {config.held_out_label!r} is not a label of {spec.name}", field="held_out_label"
        )
    if activation not in TrainingRun.Activation.values:
        raise ApplicationError(
            f"activation must be one of {', '.join(TrainingRun.Activation.values)}", field="activation"
        )
    if data_file is not None:
        data_file = data_file.resolve()
        # Refuse a bad file now, not in the worker.
        if spec.fit is None:
            _examples(spec, data_file)
        elif spec.data_check is not None:
            spec.data_check(data_file)
    if dispatch and settings.CELERY_TASK_ALWAYS_EAGER:
        raise ApplicationError(
            "training runs on a Celery worker of the gpu queue and none is connected (tasks run in-process); "
            "start a broker and worker, or use `manage.py train`"
        )
    run = TrainingRun.objects.create(
        task=spec.name,
        method=config.method,
        config=config.as_dict(),
        data_file=str(data_file or ""),
        activation=activation,
        created_by=user if user is not None and user.is_authenticated else None,
        sent_alone=dispatch,
    )
    if dispatch:
        train_later(run.pk, fine_tuning=config.method in FINE_TUNING)
    return run


def run_cancel(run: TrainingRun) -> TrainingRun:
    """A queued run is cancelled at once; a running one stops at its next progress report."""
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if run.status == TrainingRun.Status.QUEUED:
            run.status, run.finished_at = TrainingRun.Status.CANCELLED, timezone.now()
        if run.status == TrainingRun.Status.RUNNING:
            run.cancel_requested = True
        run.save(update_fields=["status", "finished_at", "cancel_requested"])
    return run


def run_fail(run_id: int, reason: str) -> None:
    """Mark a run failed (its task gave up), unless it finished meanwhile."""
    unfinished = TrainingRun.objects.filter(
        pk=run_id, status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]
    )
    if unfinished.update(status=TrainingRun.Status.FAILED, error=reason, finished_at=timezone.now()):
        logger.error("training run %s failed: %s", run_id, reason)


def run_execute(
    run_id: int, *, on_progress: Callable[[Any], None] | None = None, restart_interrupted: bool = False
) -> TrainingRun:
    """Train, evaluate and register a candidate version; then apply the run's activation rule.

    Safe to call twice for the same run: only a queued run starts, or, with
    `restart_interrupted`, a run left running by a worker that died (the broker hands its
    task to another worker only then: its visibility timeout exceeds the task's time limit).
    """
    with transaction.atomic():
        run = TrainingRun.objects.select_for_update().get(pk=run_id)
        interrupted = restart_interrupted and run.status == TrainingRun.Status.RUNNING and _stalled(run)
        if interrupted:
            logger.warning("run %s was interrupted (its worker was lost); starting it again", run.pk)
        elif run.status != TrainingRun.Status.QUEUED:
            logger.info("run %s is %s; not starting it", run.pk, run.status)
            return run
        run.status, run.started_at = TrainingRun.Status.RUNNING, timezone.now()
        run.progressed_at = run.started_at
        run.save(update_fields=["status", "started_at", "progressed_at"])
    # The creation time keeps folders of databases that share MODELS_DIR (a benchmark's, say) apart.
    folder = settings.MODELS_DIR / run.task / f"run-{run.pk}-{run.created_at:%Y%m%dT%H%M%S%f}"
    try:
        version = _train_and_register(run, folder, on_progress)
    except Exception as error:
        from assistant.training.engine import TrainingCancelled

        shutil.rmtree(folder, ignore_errors=True)
        cancelled = isinstance(error, TrainingCancelled)
        run.status = TrainingRun.Status.CANCELLED if cancelled else TrainingRun.Status.FAILED
        run.error = (
            "" if cancelled else (getattr(error, "message", None) or f"{type(error).__name__}: {error}")
        )
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        if not cancelled and not isinstance(error, ApplicationError):
            logger.exception("training run %s failed", run.pk)
        return run
    run.refresh_from_db()  # progress was written by queries, not through this instance
    run.status, run.finished_at = TrainingRun.Status.SUCCEEDED, timezone.now()
    run.metrics = version.metrics
    run.save(update_fields=["status", "finished_at", "metrics"])
    # A run executes in a worker or a command, never in a web process: it prepares what it activates.
    if run.activation == TrainingRun.Activation.ALWAYS:
        version_activate(version, user=run.created_by, prepare_now=True)
    elif run.activation == TrainingRun.Activation.IF_BETTER:
        version_activate_if_better(version, prepare_now=True)
    return run


def _stalled(run: TrainingRun) -> bool:
    """Whether a running run has gone without progress for TRAINING_REQUEUE_AFTER_S: its worker
    died (a message delivered twice finds a live run progressing, and leaves it be)."""
    last = run.progressed_at or run.started_at
    return last is None or last < timezone.now() - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S)


def runs_requeue_stale() -> int:
    """Send the fit again of runs sent alone and left running without progress by a worker that
    died; the run starts again from the beginning (run_execute restarts a stalled run)."""
    cutoff = timezone.now() - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S)
    stale = TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, progressed_at__lt=cutoff, sent_alone=True
    )
    found = list(stale.values_list("pk", "method")[:100])
    for pk, method in found:
        train_later(pk, fine_tuning=method in FINE_TUNING)
    if found:
        logger.warning("re-sent %d stalled training run(s)", len(found))
    return len(found)


def versions_prepare_stale() -> int:
    """Send again the preparation of active versions, activated over TRAINING_REQUEUE_AFTER_S ago,
    whose task says what serving them needs is not built; at most once a period each."""
    cutoff = timezone.now() - timedelta(seconds=settings.TRAINING_REQUEUE_AFTER_S)
    sent = 0
    for version in ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE, activated_at__lt=cutoff):
        try:
            spec = task_get(version.task)
        except UnknownTask:
            continue
        if spec.prepared is None or spec.prepared(version):
            continue
        if cache.add(
            f"training:prepare-resent:{version.pk}", True, timeout=settings.TRAINING_REQUEUE_AFTER_S
        ):
            version_prepare_later(version.pk)
            sent += 1
    if sent:
        logger.warning("re-sent the preparation of %d active version(s) still not ready", sent)
    return sent


def _examples(spec: TaskSpec, data_file: Path | None) -> list[Example]:
    if data_file is None:
        return list(spec.examples())
    return examples_read(
        data_file,
        text_column=spec.text_column,
        label_column=spec.label_column,
        labels=spec.labels,
        aliases=spec.label_aliases,
    )


def _train_and_register(
    run: TrainingRun, folder: Path, on_progress: Callable[[Any], None] | None
) -> ModelVersion:
    from assistant.training.costs import measured
    from assistant.training.techniques import Job, technique
    from assistant.training.techniques.artefact import folder_bytes, manifest_write

    spec = task_get(run.task)
    config = TrainingConfig.build(run.config)
    if spec.fit is not None:
        return _self_fitted(run, spec, config, folder, on_progress)
    examples = _examples(spec, Path(run.data_file) if run.data_file else None)
    splits = Splits.of(examples)
    if narrowing := config.narrowing():
        splits = splits.narrowed(narrowing)
    run.dataset_hash, run.dataset_sizes = dataset_hash(examples), splits.sizes()
    run.save(update_fields=["dataset_hash", "dataset_sizes"])

    progress, should_stop = _progress_recorder(run, on_progress)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    job = Job(spec, splits, config, folder, progress, should_stop)
    with measured() as cost:
        fitted = technique(config.method).fit(job)
    predictor = fitted.predictor
    evaluation = evaluate(predictor, splits, limit=config.evaluation_limit, seed=config.seed)
    reference = drift_reference(predictor, splits.train)
    manifest = {
        "task": spec.name,
        "labels": list(spec.labels),
        "base_model": config.base_model,
        "method": config.method,
        **fitted.manifest,
        "abstain_threshold": evaluation["abstain"]["threshold"],
        "drift_reference": reference,
    }
    manifest_write(folder, manifest)
    metrics = {
        **evaluation,
        **fitted.metrics,
        **predictor.usage(),
        "dataset_sizes": run.dataset_sizes,
    }
    version = _version_create(
        run,
        config,
        folder,
        cost,
        device=fitted.device,
        history=fitted.history,
        labels=list(spec.labels),
        dataset_hash=run.dataset_hash,
        validation_hash=dataset_hash(splits.validation),
        metrics=metrics,
        abstain_threshold=evaluation["abstain"]["threshold"],
        drift_reference=reference,
        artefact_bytes=folder_bytes(folder) + fitted.stored_bytes,
    )
    logger.info(
        "%s: version %s (%s) accuracy %.4f macro-F1 %.4f, fitted in %.1f s",
        spec.name, version.pk, config.method, metrics["accuracy"], metrics["macro_f1"], cost.seconds,
    )  # fmt: skip
    return version


def _progress_recorder(
    run: TrainingRun, on_progress: Callable[[Any], None] | None
) -> tuple[Callable[[Any], None], Callable[[], bool]]:
    """What a fit reports its progress to (the run's row, and `on_progress`), and asks whether to stop."""

    def progress(report: Any) -> None:
        TrainingRun.objects.filter(pk=run.pk).update(
            epoch=report.epoch, step=report.step, total_steps=report.total_steps, loss=report.loss,
            history=report.history, progressed_at=timezone.now(),
        )  # fmt: skip
        if on_progress is not None:
            on_progress(report)

    def should_stop() -> bool:
        return TrainingRun.objects.filter(pk=run.pk, cancel_requested=True).exists()

    return progress, should_stop


def _self_fitted(
    run: TrainingRun,
    spec: TaskSpec,
    config: TrainingConfig,
    folder: Path,
    on_progress: Callable[[Any], None] | None,
) -> ModelVersion:
    """Fit and register a version of a task that fits itself (`TaskSpec.fit`)."""
    from assistant.training.costs import measured
    from assistant.training.techniques import TaskFitted, TaskJob
    from assistant.training.techniques.artefact import folder_bytes, manifest_write

    assert spec.fit is not None
    progress, should_stop = _progress_recorder(run, on_progress)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    data_file = Path(run.data_file) if run.data_file else None
    job = TaskJob(spec.name, data_file, config, folder, progress, should_stop)
    with measured() as cost:
        fitted: TaskFitted = spec.fit(job)
    manifest = {"task": spec.name, "base_model": config.base_model, "method": config.method}
    manifest_write(folder, {**manifest, **fitted.manifest})
    version = _version_create(
        run,
        config,
        folder,
        cost,
        device=fitted.device,
        history=fitted.history,
        run_fields={"dataset_hash": fitted.dataset_hash, "dataset_sizes": fitted.dataset_sizes},
        labels=[],
        dataset_hash=fitted.dataset_hash,
        validation_hash=fitted.validation_hash,
        metrics={**fitted.metrics, "dataset_sizes": fitted.dataset_sizes},
        abstain_threshold=0.0,
        drift_reference={},
        artefact_bytes=folder_bytes(folder),
    )
    logger.info("%s: version %s (%s) fitted in %.1f s", spec.name, version.pk, config.method, cost.seconds)
    return version


def _version_create(
    run: TrainingRun,
    config: TrainingConfig,
    folder: Path,
    cost: Any,
    *,
    device: str,
    history: list[dict[str, Any]],
    run_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> ModelVersion:
    """Register a run's fitted artefact at `folder` as a candidate version of its task, and record
    on the run, in the same transaction, where it was fitted, its history and `run_fields`."""
    from assistant.training.techniques.artefact import FORMAT_VERSION, checksum

    with transaction.atomic():
        version = ModelVersion.objects.create(
            task=run.task,
            base_model=config.base_model,
            method=config.method,
            config=run.config,
            library_versions=library_versions(),
            artefact_path=str(folder),
            artefact_checksum=checksum(folder),
            format_version=FORMAT_VERSION,
            fit_seconds=cost.seconds,
            fit_device=device,
            peak_memory_bytes=cost.peak_memory_bytes,
            run=run,
            **fields,
        )
        TrainingRun.objects.filter(pk=run.pk).update(device=device, history=history, **(run_fields or {}))
    return version


def sampled(examples: list[Example], limit: int, seed: int) -> list[Example]:
    """At most `limit` of the examples (all when 0), the same ones for the same seed."""
    if not limit or len(examples) <= limit:
        return examples
    return random.Random(seed).sample(examples, limit)


def evaluate(predictor: Any, splits: Splits, *, limit: int = 0, seed: int = 0) -> dict[str, Any]:
    """Metrics on the validation split; the abstain threshold from the calibration split (each a
    seeded sample of `limit` examples where one is given)."""
    from assistant.training.evaluation import abstain_threshold

    truth, probabilities = _scored(predictor, sampled(splits.calibration, limit, seed))
    threshold = abstain_threshold(truth, probabilities, precision=settings.ABSTAIN_PRECISION)
    validation = sampled(splits.validation, limit, seed)
    metrics = evaluate_examples(predictor, validation, threshold=threshold["threshold"])
    metrics["abstain"] = {
        **threshold,
        "wanted_precision": settings.ABSTAIN_PRECISION,
        "on_validation": metrics["abstain"],
    }
    if len(validation) < len(splits.validation):
        metrics["evaluated_on"] = {"validation": len(validation), "of": len(splits.validation)}
    return metrics


def drift_reference(classifier: Any, train: list[Example]) -> dict[str, Any]:
    """Label shares of the training data, and its embeddings' spread on their main directions.

    The directions are the top principal components of (a sample of) the training embeddings;
    each gets decile edges, so live embeddings can be binned and compared by PSI.
    """
    import numpy as np

    shares: dict[str, float] = dict.fromkeys(classifier.labels, 0.0)
    for example in train:
        shares[example.label] += 1 / len(train)
    rng = np.random.default_rng(0)
    sample = [train[i].text for i in rng.permutation(len(train))[:DRIFT_REFERENCE_TEXTS]]
    embeddings = classifier.embed(sample).astype(np.float64)
    mean = embeddings.mean(axis=0)
    _, _, components = np.linalg.svd(embeddings - mean, full_matrices=False)
    components = components[: min(DRIFT_COMPONENTS, len(sample) - 1, components.shape[0])]
    projections = (embeddings - mean) @ components.T
    edges = np.quantile(projections, np.linspace(0.1, 0.9, 9), axis=0).T
    return {
        "label_shares": {label: round(share, 6) for label, share in shares.items()},
        "mean": mean.round(6).tolist(),
        "components": components.round(6).tolist(),
        "edges": edges.round(6).tolist(),
    }


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


# Tasks from files and examples added to versions ----------------------------------------------

MIN_EXAMPLES_PER_LABEL = 2
MAX_LABEL_CHARS = 200
MAX_EXAMPLES_ADDED = 1000
RETRIEVING = ("knn", "icl")


def task_create(
    *,
    name: str,
    file_name: str,
    content: bytes,
    text_column: str = "text",
    label_column: str = "label",
    description: str = "",
    user: User | None = None,
) -> Dataset:
    """A classification task from a CSV or JSONL file of labelled examples: its labels are the
    file's, its examples a versioned dataset (returned) in the database. Nothing is stored unless
    all is well."""
    from django.core.validators import validate_slug

    from assistant.training.data import examples_parse
    from assistant.training.registry import is_registered

    if not name or len(name) > 100:
        raise DataError("give the task a name of at most 100 characters", field="name")
    try:
        validate_slug(name)
    except ValidationError:
        raise DataError(
            "a task name has only letters, digits, hyphens and underscores", field="name"
        ) from None
    if is_registered(name) or TaskDefinition.objects.filter(name=name).exists():
        raise TaskExists(f"a task named {name!r} exists already", field="name")
    if len(content) > settings.TASK_FILE_MAX_BYTES:
        raise DataError(
            f"{file_name} is {len(content):,} bytes; at most {settings.TASK_FILE_MAX_BYTES:,} "
            "(FINASSIST_TASK_FILE_MAX_BYTES)",
            field="data",
        )
    examples = examples_parse(file_name, content, text_column=text_column, label_column=label_column)
    counts = Counter(example.label for example in examples)
    if len(counts) < 2:
        raise DataError(f"{file_name}: a task needs two labels or more; it has {len(counts)}", field="data")
    long = sorted(label for label in counts if len(label) > MAX_LABEL_CHARS)
    if long:
        raise DataError(
            f"{file_name}: label {long[0][:60]!r}... is longer than {MAX_LABEL_CHARS}", field="data"
        )
    rare = sorted(label for label, count in counts.items() if count < MIN_EXAMPLES_PER_LABEL)
    if rare:
        raise DataError(
            f"{file_name}: every label needs {MIN_EXAMPLES_PER_LABEL} examples or more; "
            f"{', '.join(repr(label) for label in rare[:10])} {'has' if len(rare) == 1 else 'have'} one",
            field="data",
        )
    Splits.of(examples)  # refuses a file too small to leave every split some examples
    labels = sorted(counts)
    with transaction.atomic():
        definition = TaskDefinition.objects.create(
            name=name,
            labels=labels,
            description=description[:500],
            text_column=text_column,
            label_column=label_column,
            created_by=_person(user),
        )
        dataset = Dataset.objects.create(
            task=definition,
            source=file_name[:300],
            hash=dataset_hash(examples),
            rows=len(examples),
            label_counts={label: counts[label] for label in labels},
            created_by=_person(user),
        )
        DatasetRow.objects.bulk_create(
            (DatasetRow(dataset=dataset, text=e.text, label=e.label) for e in examples), batch_size=2000
        )
    logger.info(
        "task %s created from %s: %d examples, %d labels", name, file_name, len(examples), len(labels)
    )
    return dataset


@dataclass(frozen=True)
class ExamplesAdded:
    added: int
    new_labels: list[str]
    labels: list[str]


def examples_add(
    version: ModelVersion, examples: Sequence[Example], *, user: User | None = None
) -> ExamplesAdded:
    """Embed labelled examples into a knn or icl version's index: its next prediction uses them,
    without a refit. A label it did not have is added with them."""
    from assistant.training.inference import active_forget
    from assistant.training.techniques.artefact import artefact_verify

    if version.method not in RETRIEVING:
        raise RegistryError(
            f"version {version.pk} is {version.method}: only knn and icl versions take examples "
            "without a refit (train a new version instead)",
            field="version",
        )
    if not examples:
        raise DataError("give one or more examples", field="examples")
    if len(examples) > MAX_EXAMPLES_ADDED:
        raise DataError(
            f"at most {MAX_EXAMPLES_ADDED} examples at a time, not {len(examples)}", field="examples"
        )
    for number, example in enumerate(examples, start=1):
        if not example.text.strip() or not example.label.strip():
            raise DataError(f"example {number} has an empty text or label", field="examples")
        if len(example.label) > MAX_LABEL_CHARS:
            raise DataError(
                f"example {number}: a label has at most {MAX_LABEL_CHARS} characters", field="examples"
            )
    manifest = artefact_verify(Path(version.artefact_path), expected_checksum=version.artefact_checksum)
    cleaned = [Example(e.text.strip(), e.label.strip()) for e in examples]
    person = _person(user)
    with transaction.atomic():
        added, labels = index_examples_add(
            manifest["index"], cleaned, version.base_model, user_id=person.pk if person else None
        )
        if added:
            ModelVersion.objects.filter(pk=version.pk).update(labels=labels)
    active_forget(version.task)
    logger.info("version %s: %d example(s) added, new labels %s", version.pk, len(cleaned), added or "none")
    return ExamplesAdded(len(cleaned), added, labels)


def index_examples_add(
    index_id: int, examples: Sequence[Example], encoder_name: str, *, user_id: int | None = None
) -> tuple[list[str], list[str]]:
    """Embed examples with `encoder_name` and insert them into an example index, adding the labels
    it did not have: (the labels added, all its labels)."""
    from assistant.core.encoder import encoder
    from assistant.training.techniques.examples import examples_insert

    vectors = encoder(encoder_name).embed([e.text for e in examples])
    with transaction.atomic():
        index = ExampleIndex.objects.select_for_update().get(pk=index_id)
        added = sorted({e.label for e in examples} - set(index.labels))
        examples_insert(index, examples, vectors, user_id=user_id)
        if added:
            index.labels = [*index.labels, *added]
            index.save(update_fields=["labels"])
    return added, list(index.labels)


def _person(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


# The registry ---------------------------------------------------------------------------------


def version_activate(
    version: ModelVersion, *, user: User | None = None, prepare_now: bool = False
) -> ModelVersion:
    """Make `version` its task's active version; the one it replaces is retired (and remembered).

    What serving it needs besides its model (its task's `prepare`) is built here with
    `prepare_now` (a worker, a command), else queued for an inference worker (a web request).
    """
    from assistant.training.techniques.artefact import artefact_verify

    # A version whose artefact is missing, changed or of another format is never activated
    # (checked here without loading the model into this process).
    artefact_verify(Path(version.artefact_path), expected_checksum=version.artefact_checksum)
    with transaction.atomic():
        # Lock every version of the task: two activations at once would each retire the other.
        locked = list(ModelVersion.objects.select_for_update().filter(task=version.task))
        current = next((v for v in locked if v.status == ModelVersion.Status.ACTIVE), None)
        if current is None or current.pk != version.pk:
            if current is not None:
                current.status = ModelVersion.Status.RETIRED
                current.save(update_fields=["status"])
            version.refresh_from_db()
            version.status = ModelVersion.Status.ACTIVE
            version.previous = current
            version.activated_at = timezone.now()
            version.activated_by = user if user is not None and user.is_authenticated else None
            version.save(update_fields=["status", "previous", "activated_at", "activated_by"])
            was = current.pk if current else None
            logger.info("%s: version %s active (was %s)", version.task, version.pk, was)
    from assistant.training.inference import active_forget

    active_forget(version.task)
    if task_get(version.task).prepare is not None:
        if prepare_now:
            try:
                version_prepare(version.pk)
            except Exception:  # the version is active: an inference worker tries again
                logger.exception("preparing version %s failed here; queued for a worker", version.pk)
                version_prepare_later(version.pk)
        else:
            version_prepare_later(version.pk)
    return version


def version_prepare(version_id: int) -> str:
    """Build what serving the version needs besides its model (its task's `prepare`); safe to run
    twice, and for a version since retired (a rollback may bring it back)."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFound(f"no model version {version_id} to prepare: deleted since", field="id")
    prepare = task_get(version.task).prepare
    if prepare is None:
        return "nothing to prepare"
    prepare(version)
    return "prepared"


def version_rollback(task: str, *, user: User | None = None) -> ModelVersion:
    """Return the task to the version that was active before the current one."""
    current = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE).first()
    if current is None:
        raise RegistryError(f"task {task!r} has no active version to roll back")
    if current.previous is None and task_get(task).stock_without_version:
        return _stock_restored(current, user=user)
    if current.previous is None:
        raise RegistryError(f"{current.name} of {task!r} was the first active one; nothing to roll back to")
    previous = current.previous
    before_it = previous.previous_id
    version_activate(previous, user=user)
    # Keep the chain: a later rollback goes further back, not forth again.
    ModelVersion.objects.filter(pk=previous.pk).update(previous=before_it)
    previous.refresh_from_db()
    return previous


def _stock_restored(current: ModelVersion, *, user: User | None) -> ModelVersion:
    """Retire a task's first active version, so that it serves its stock model again: what serving
    needs is prepared again (by a worker), as for an activation."""
    with transaction.atomic():
        locked = list(ModelVersion.objects.select_for_update().filter(task=current.task))
        if any(v.pk == current.pk and v.status == ModelVersion.Status.ACTIVE for v in locked):
            ModelVersion.objects.filter(pk=current.pk).update(status=ModelVersion.Status.RETIRED)
    logger.info("%s: version %s retired by %s; the stock model serves", current.task, current.pk, user)
    from assistant.training.inference import active_forget

    active_forget(current.task)
    version_prepare_later(current.pk)
    current.refresh_from_db()
    return current


def version_activate_if_better(version: ModelVersion, *, prepare_now: bool = False) -> bool:
    """The rule: activate only when its macro-F1 beats the active version's on the same held-out split.

    Both are scored on the candidate's validation split. Splits go by a hash of each text, so
    neither version trained on any of it, whatever data the active one was trained on.
    """
    from assistant.training.inference import classifier_for

    spec = task_get(version.task)
    if spec.fit is not None:
        # Its fit scored the model serving then (the active version, or the stock model) on the
        # same held-out split.
        better = bool(version.metrics["score"] > version.metrics["active"]["score"])
        if better:
            version_activate(version, prepare_now=prepare_now)
        return better
    current = ModelVersion.objects.filter(task=version.task, status=ModelVersion.Status.ACTIVE).first()
    if current is None:
        version_activate(version, prepare_now=prepare_now)
        return True
    run = version.run
    if run is None:
        raise RegistryError(f"version {version.pk} has no training run, so no held-out split to compare on")
    held_out = Splits.of(_examples(spec, Path(run.data_file) if run.data_file else None)).validation
    scores = {v.pk: evaluate_examples(classifier_for(v), held_out)["macro_f1"] for v in (current, version)}
    version.metrics["compared_with"] = {"version": current.pk, "macro_f1": scores}
    version.save(update_fields=["metrics"])
    if scores[version.pk] > scores[current.pk]:
        version_activate(version, prepare_now=prepare_now)
        return True
    return False


def evaluate_examples(
    classifier: Any, examples: list[Example], *, threshold: float | None = None
) -> dict[str, Any]:
    """Accuracy, macro-F1 and the rest on any labelled examples (labels must be the model's),
    with the coverage and accuracy of what it answers at `threshold` (default: its own)."""
    from assistant.training.evaluation import abstain_effect, classification_metrics

    truth, probabilities = _scored(classifier, examples)
    metrics = classification_metrics(classifier.labels, truth, probabilities)
    if threshold is None:
        threshold = classifier.manifest["abstain_threshold"]
    metrics["abstain"] = abstain_effect(truth, probabilities, threshold)
    return metrics


def _scored(classifier: Any, examples: list[Example]) -> tuple[list[int], Any]:
    """Label indices and the classifier's probabilities for labelled examples."""
    index = {label: i for i, label in enumerate(classifier.labels)}
    unknown = sorted({e.label for e in examples} - set(index))
    if unknown:
        raise RegistryError(f"the model does not know the labels {', '.join(unknown[:5])}", field="data")
    return [index[e.label] for e in examples], classifier.scores([e.text for e in examples]).probabilities


# Drift ----------------------------------------------------------------------------------------


def drift_audit(version: ModelVersion, *, now: Any = None) -> DriftAudit:
    """Compare the window's live predictions with the version's training data, by PSI."""
    import numpy as np

    from assistant.training.inference import records_flush

    records_flush()

    end = now or timezone.now()
    start = end - timedelta(hours=settings.DRIFT_WINDOW_HOURS)
    records = list(
        PredictionRecord.objects.filter(
            model_version=version, created_at__gt=start, created_at__lte=end
        ).values_list("label", "projection")
    )
    threshold = settings.DRIFT_PSI_THRESHOLD
    audit = DriftAudit(
        model_version=version, window_start=start, window_end=end, samples=len(records), threshold=threshold
    )
    if len(records) < settings.DRIFT_MIN_SAMPLES:
        audit.verdict = DriftAudit.Verdict.TOO_LITTLE_DATA
        audit.details = {"needed": settings.DRIFT_MIN_SAMPLES}
        audit.save()
        return audit
    reference = version.drift_reference
    labels = list(reference["label_shares"])
    live_counts = dict.fromkeys(labels, 0)
    for label, _ in records:
        live_counts[label] = live_counts.get(label, 0) + 1
    expected = np.array([reference["label_shares"][label] for label in labels])
    observed = np.array([live_counts[label] for label in labels]) / len(records)
    audit.label_psi = round(psi(expected, observed), 4)
    edges = np.array(reference["edges"])
    projections = np.array([projection for _, projection in records])
    component_psi = [
        psi(
            np.full(10, 0.1),
            np.bincount(np.searchsorted(edges[c], projections[:, c]), minlength=10) / len(records),
        )
        for c in range(len(edges))
    ]
    audit.embedding_psi = round(max(component_psi), 4)
    audit.verdict = (
        DriftAudit.Verdict.DRIFT
        if max(audit.label_psi, audit.embedding_psi) > threshold
        else DriftAudit.Verdict.STABLE
    )
    shifted = sorted(
        labels, key=lambda label: -abs(observed[labels.index(label)] - expected[labels.index(label)])
    )
    audit.details = {
        "component_psi": [round(value, 4) for value in component_psi],
        "labels_most_shifted": {
            label: {"training": round(float(expected[labels.index(label)]), 4),
                    "live": round(float(observed[labels.index(label)]), 4)}
            for label in shifted[:5]
        },
    }  # fmt: skip
    audit.save()
    if audit.verdict == DriftAudit.Verdict.DRIFT:
        logger.warning(
            "%s: drift (label PSI %s, embedding PSI %s)", version, audit.label_psi, audit.embedding_psi
        )
    return audit


def psi(expected: Any, observed: Any, *, floor: float = 1e-4) -> float:
    """Population stability index: sum over bins of (o - e) * ln(o / e), shares floored at `floor`."""
    import numpy as np

    e = np.clip(np.asarray(expected, dtype=float), floor, None)
    o = np.clip(np.asarray(observed, dtype=float), floor, None)
    return float(np.sum((o - e) * np.log(o / e)))


def drift_audit_all() -> list[DriftAudit]:
    # A version without labels (a retriever's encoder) makes no predictions to audit.
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exclude(labels=[])
    return [drift_audit(version) for version in active]
