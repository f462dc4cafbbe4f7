from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import connection, models, transaction
from django.db.models import Max, Q
from pgvector.django import VectorField


class TrainingRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Activation(models.TextChoices):
        NEVER = "never", "never: a person activates it"
        IF_BETTER = "if-better", "if better than the active version on the same held-out split"
        ALWAYS = "always"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    task = models.CharField(max_length=100, db_index=True)
    method = models.CharField(max_length=10)
    config = models.JSONField(help_text="the validated training configuration")
    data_file = models.CharField(max_length=500, blank=True, help_text="examples file; empty: the task's own")
    activation = models.CharField(max_length=10, choices=Activation.choices, default=Activation.NEVER)
    dataset_hash = models.CharField(max_length=64, blank=True)
    dataset_sizes = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    device = models.CharField(max_length=40, blank=True)
    epoch = models.PositiveIntegerField(default=0)
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    # [{"step", "epoch", "loss"} ...] and, per epoch (and at step 0), {"step", "epoch",
    # "validation_accuracy", "validation_loss"}.
    history = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="its last progress report (the stale-work sweep reads it)"
    )
    sent_alone = models.BooleanField(
        default=True,
        help_text="sent to a worker as a task of its own, which the training sweep sends again; "
        "else run inside other work (a lab study's arm, a command) that resumes it",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task} run {self.pk} ({self.method}, {self.status})"

    @property
    def progress(self) -> float:
        return self.step / self.total_steps if self.total_steps else 0.0


# The first key of the advisory locks that number a task's versions (the second: the task's hash).
NUMBERING_LOCK = 7_340_102


class ModelVersion(models.Model):
    class Status(models.TextChoices):
        CANDIDATE = "candidate"
        ACTIVE = "active"
        RETIRED = "retired"

    task = models.CharField(max_length=100, db_index=True)
    number = models.PositiveIntegerField(
        editable=False, help_text="its number among its task's versions, by creation: v1, v2, …"
    )
    base_model = models.CharField(max_length=500)
    method = models.CharField(max_length=10)
    config = models.JSONField()
    labels = models.JSONField()
    library_versions = models.JSONField()
    dataset_hash = models.CharField(max_length=64)
    validation_hash = models.CharField(
        max_length=64, help_text="hash of the held-out split the metrics are on"
    )
    metrics = models.JSONField()
    abstain_threshold = models.FloatField(help_text="below this confidence the model answers 'not sure'")
    # Training-time reference for drift audits: label shares and embedding projections.
    drift_reference = models.JSONField()
    artefact_path = models.CharField(max_length=500)
    artefact_checksum = models.CharField(max_length=64)
    format_version = models.PositiveIntegerField()
    fit_seconds = models.FloatField(null=True, blank=True, help_text="wall seconds the fit took")
    fit_device = models.CharField(max_length=40, blank=True)
    artefact_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="the artefact's files, and its stored examples for knn and icl"
    )
    peak_memory_bytes = models.BigIntegerField(
        null=True, blank=True, help_text="the fitting process's resident memory at its peak during the fit"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CANDIDATE, db_index=True)
    run = models.OneToOneField(
        TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_version"
    )
    # The version that was active when this one was activated: what a rollback returns to.
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(status="active"), name="one_active_version_per_task"
            ),
            models.UniqueConstraint(fields=["task", "number"], name="one_number_per_task_version"),
        ]
        permissions = [("activate_modelversion", "Can activate and roll back model versions")]

    def __str__(self) -> str:
        return f"{self.task} {self.name} ({self.method}, {self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new version takes its task's next number. Versions of one task registered at once take
        turns (an advisory lock held until the outermost transaction ends), so none share a number."""
        if not self._state.adding or self.number is not None:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [NUMBERING_LOCK, self.task])
            last = ModelVersion.objects.filter(task=self.task).aggregate(last=Max("number"))["last"]
            self.number = (last or 0) + 1
            super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        return f"v{self.number}"


class PredictionRecord(models.Model):
    """One live prediction, kept for drift audits: no text, only what the audit compares."""

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="predictions")
    label = models.CharField(max_length=200)
    confidence = models.FloatField()
    abstained = models.BooleanField()
    projection = ArrayField(models.FloatField(), help_text="the text's embedding on the reference components")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.label} ({self.confidence:.2f}) by {self.model_version_id}"


class DriftAudit(models.Model):
    class Verdict(models.TextChoices):
        STABLE = "stable"
        DRIFT = "drift"
        TOO_LITTLE_DATA = "too-little-data"

    model_version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="drift_audits")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    samples = models.PositiveIntegerField()
    label_psi = models.FloatField(null=True, blank=True)
    embedding_psi = models.FloatField(
        null=True, blank=True, help_text="largest PSI over the reference components"
    )
    threshold = models.FloatField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.model_version}: {self.verdict} ({self.created_at:%Y-%m-%d %H:%M})"


class ExampleIndex(models.Model):
    """Labelled examples embedded for retrieval: what a knn version votes with and what an icl
    version shows its generative model. Examples added to it serve at once, without a refit."""

    task = models.CharField(max_length=100, db_index=True)
    encoder = models.CharField(max_length=500, help_text="the model that embedded the examples")
    # The labels it answers with: the task's, and any a person added since with their examples.
    labels = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.task} examples {self.pk}"


class IndexedExample(models.Model):
    index = models.ForeignKey(ExampleIndex, on_delete=models.CASCADE, related_name="examples")
    text = models.TextField()
    label = models.CharField(max_length=200)
    # As many dimensions as the index's encoder gives; searched exactly within one index.
    embedding = VectorField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"


class TaskDefinition(models.Model):
    """A classification task a person created from a file, served and trained like a registered one."""

    name = models.SlugField(max_length=100, unique=True)
    labels = models.JSONField()
    description = models.CharField(max_length=500, blank=True)
    text_column = models.CharField(max_length=100)
    label_column = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """One version of a created task's examples; the newest is what the task trains on."""

    task = models.ForeignKey(TaskDefinition, on_delete=models.CASCADE, related_name="datasets")
    source = models.CharField(max_length=300, help_text="the file's name")
    hash = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    label_counts = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.task} dataset {self.pk} ({self.rows} rows)"


class DatasetRow(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="examples")
    text = models.TextField()
    label = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:60]}"
