"""A study compares techniques on one task; an arm is one technique's share of it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assistant.training.models import ModelVersion, TrainingRun

# A study and each of its arms go through the same states as a training run.
Status = TrainingRun.Status
FINISHED = TrainingRun.FINISHED
# A knowledge study searches a copy of its collection, named so, made and dropped by the study.
SCRATCH_PREFIX = "lab-study-"


class Study(models.Model):
    class Kind(models.TextChoices):
        CLASSIFICATION = "classification"  # a task's labels: every technique, the questionnaire
        KNOWLEDGE = "knowledge"  # a collection's questions: retrieval against fine-tuning it in

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CLASSIFICATION)
    task = models.CharField(
        max_length=100, db_index=True, help_text="what is studied: a task or a collection"
    )
    techniques = models.JSONField(help_text="the techniques compared, in the order shown")
    answers = models.JSONField(default=dict, blank=True, help_text="the questionnaire's answers")
    seed = models.PositiveIntegerField(default=42, help_text="the same subsamples for every technique")
    test_share = models.FloatField(help_text="share of the training split reserved as the test split")
    held_out_label = models.CharField(
        max_length=200, blank=True, help_text="left out, then added back (update cost)"
    )
    update_examples = models.PositiveIntegerField(default=16)
    curve_sizes = models.JSONField(help_text="examples per label at each point of the learning curve")
    plan = models.JSONField(
        default=dict,
        blank=True,
        help_text="what it was given: a task's label counts; a knowledge study's questions and change",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    results = models.JSONField(default=dict, blank=True, help_text="the test split's figures, once")
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"study {self.pk} of {self.task} ({self.status})"


class Arm(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    technique = models.CharField(max_length=10)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=40, blank=True, help_text="what it is doing now")
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(
        null=True, blank=True, help_text="when its stage last changed (the stale-work sweep reads it)"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["study", "technique"], name="one_arm_per_technique")]

    def __str__(self) -> str:
        return f"{self.technique} in study {self.study_id}"


class ArmRun(models.Model):
    """A training run an arm fits: its main version, a point of the curve, or the update's."""

    class Purpose(models.TextChoices):
        MAIN = "main"
        CURVE = "curve"
        UPDATE_BEFORE = "update-before"
        UPDATE_AFTER = "update-after"

    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="runs")
    run = models.OneToOneField(TrainingRun, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    per_label = models.PositiveIntegerField(default=0, help_text="a curve point's examples per label")

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.purpose} run {self.run_id} of {self.arm}"

    @property
    def version(self) -> ModelVersion | None:
        return getattr(self.run, "model_version", None)
