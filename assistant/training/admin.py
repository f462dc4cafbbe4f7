from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from assistant.core.access import signed_in
from assistant.core.errors import ApplicationError
from assistant.training.charts import confusion_html, drift_svg, loss_curve_svg
from assistant.training.config import METHODS
from assistant.training.models import DriftAudit, ModelVersion, TaskDefinition, TrainingRun
from assistant.training.registry import Example, task_get, tasks
from assistant.training.selectors import (
    RunTiming,
    drift_audits_recent,
    run_timing,
    task_drift_audits,
    task_rollback_target,
    task_running_run,
    task_version,
    task_versions,
    version_of,
)
from assistant.training.services import (
    examples_add,
    run_cancel,
    run_submit,
    task_create,
    version_activate,
    version_rollback,
)

ACTIVATE = "training.activate_modelversion"
DRIFT_SHOWN = 500  # the latest audits a drift chart draws


class TaskFileForm(forms.Form):
    name = forms.SlugField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("letters, digits, hyphens and underscores"),
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV with a header row, or JSONL: one labelled example per row"),
    )
    text_column = forms.CharField(max_length=100, initial="text", label=gettext_lazy("Text column"))
    label_column = forms.CharField(max_length=100, initial="label", label=gettext_lazy("Label column"))
    description = forms.CharField(max_length=500, required=False, label=gettext_lazy("Description"))


class ExamplesForm(forms.Form):
    examples = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 90}),
        label=gettext_lazy("Examples"),
        help_text=gettext_lazy(
            "one example per line: the label, a tab, then the text; a new label is added with it"
        ),
    )

    def clean_examples(self) -> list[Example]:
        examples = []
        for number, line in enumerate(self.cleaned_data["examples"].splitlines(), start=1):
            if not line.strip():
                continue
            label, tab, text = line.partition("\t")
            if not tab or not label.strip() or not text.strip():
                raise forms.ValidationError(
                    _("line %(number)s: write the label, a tab, then the text") % {"number": number}
                )
            examples.append(Example(text.strip(), label.strip()))
        return examples


class TrainForm(forms.Form):
    # Callable choices are read when a form is made: the tasks registered by then.
    task = forms.ChoiceField(
        choices=lambda: [(spec.name, spec.name) for spec in tasks()], label=gettext_lazy("Task")
    )
    method = forms.ChoiceField(
        choices=[(m, m) for m in METHODS], initial="lora", label=gettext_lazy("Method")
    )
    epochs = forms.IntegerField(min_value=1, max_value=100, initial=3, label=gettext_lazy("Epochs"))
    data_file = forms.CharField(
        required=False,
        max_length=500,
        label=gettext_lazy("Data file"),
        help_text=gettext_lazy(
            "a CSV or JSONL file of examples on the workers' file system; empty: the task's own data"
        ),
    )


def _metric(version: ModelVersion, name: str) -> str:
    return _float(version.metrics.get(name))


def _float(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def _epochs(version: ModelVersion) -> str:
    return ", ".join(map(str, version.metrics.get("epoch_seconds", ())))


def _size(count: int | None) -> str:
    return f"{count / 1e6:.1f} MB" if count is not None else "-"


def _abstain(version: ModelVersion) -> dict[str, Any]:
    """Coverage and accuracy of the kept predictions on the validation split."""
    kept: dict[str, Any] = version.metrics.get("abstain", {}).get("on_validation", {})
    return kept


def _duration(seconds: float) -> str:
    minutes, whole = divmod(round(seconds), 60)
    if not minutes:
        return _("%(s)s s") % {"s": whole}
    if minutes < 60:
        return (
            _("%(min)s min %(s)s s") % {"min": minutes, "s": whole}
            if whole
            else _("%(min)s min") % {"min": minutes}
        )
    hours, minutes = divmod(minutes, 60)
    return _("%(h)s h %(min)s min") % {"h": hours, "min": minutes} if minutes else _("%(h)s h") % {"h": hours}


def _time_left(run: TrainingRun, timing: RunTiming) -> str:
    if run.status == TrainingRun.Status.QUEUED:
        return _("not known until it starts")
    if timing.left is None:
        return _("not known until its first steps are done")
    if run.step >= run.total_steps:
        return _("none: its steps are done, it is being evaluated")
    return _("about %(duration)s") % {"duration": _duration(timing.left)}


def _progress(run: TrainingRun) -> dict[str, Any]:
    """What the run's live part shows: its state, step, time taken and left, and its loss curve."""
    timing = run_timing(run, timezone.now())
    live = run.status in (TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)
    change = reverse("admin:training_trainingrun_change", args=[run.pk])
    return {
        "run": run,
        "live": live,
        "poll_url": f"{change}?{urlencode({'progress': 1, 'shown': run.status})}",
        "elapsed": _duration(timing.elapsed) if timing.elapsed is not None else None,
        "left": _time_left(run, timing) if live else None,
        "curve": mark_safe(loss_curve_svg(run.history)),
        "accuracies": [
            (h["epoch"], h["validation_accuracy"]) for h in run.history if "validation_accuracy" in h
        ],
        "version": getattr(run, "model_version", None),
    }


def _drift(audits: list[DriftAudit], *, by_task: bool) -> dict[str, Any]:
    """The drift chart, with what a drift audit is and when one runs (all there is before the first)."""
    schedule = settings.CELERY_BEAT_SCHEDULE.get("training-drift-audit", {}).get("schedule")
    every = (
        _("every %(duration)s") % {"duration": _duration(schedule)}
        if isinstance(schedule, int | float)
        else _("on the beat schedule")
    )
    return {
        "chart": mark_safe(drift_svg(audits, by_task=by_task)),
        "count": len(audits),
        "window_hours": settings.DRIFT_WINDOW_HOURS,
        "threshold": settings.DRIFT_PSI_THRESHOLD,
        "min_samples": settings.DRIFT_MIN_SAMPLES,
        "every": every,
    }


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id", "task", "version", "method", "status", "progress_display", "epoch", "loss", "created_at",
    )  # fmt: skip
    list_select_related = ("model_version",)
    list_filter = ("task", "status", "method")
    actions = ["cancel"]
    change_form_template = "admin/training/trainingrun_change_form.html"
    change_list_template = "admin/training/trainingrun_change_list.html"
    # Its status, steps, loss and loss curve are in the part of the page that follows the run live.
    readonly_fields = (
        "task", "method", "version", "device", "config", "data_file", "dataset_hash", "dataset_sizes",
        "metrics_summary", "error", "cancel_requested", "created_by", "created_at", "started_at",
        "finished_at",
    )  # fmt: skip
    exclude = ("history", "metrics", "status", "epoch", "step", "total_steps", "loss")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs start from the Train page, which validates them

    @admin.display(description="progress")
    def progress_display(self, run: TrainingRun) -> str:
        return f"{run.progress:.0%} ({run.step}/{run.total_steps})" if run.total_steps else "-"

    @admin.display(description="model version")
    def version(self, run: TrainingRun) -> str:
        version = getattr(run, "model_version", None)
        if version is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:training_modelversion_change", args=[version.pk]),
            version.name,
        )

    @admin.display(description="metrics")
    def metrics_summary(self, run: TrainingRun) -> str:
        if not run.metrics:
            return "-"
        return format_html(
            "accuracy {} · macro-F1 {} · ECE {} · seconds per epoch {}",
            run.metrics.get("accuracy"), run.metrics.get("macro_f1"), run.metrics.get("ece"),
            ", ".join(map(str, run.metrics.get("epoch_seconds", ()))),
        )  # fmt: skip

    @admin.action(description="Cancel the selected runs", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[TrainingRun]) -> None:
        for run in queryset.exclude(status__in=TrainingRun.FINISHED):
            run_cancel(run)
        self.message_user(request, "Cancellation requested; a running job stops at its next progress report.")

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        run = self.get_object(request, object_id) if object_id else None
        if run is None:
            return super().changeform_view(request, object_id, form_url, extra_context)
        if "progress" in request.GET:
            return self.progress_view(request, run)
        if request.method == "POST" and "cancel" in request.POST:
            if not self.has_change_permission(request, run):
                raise PermissionDenied
            run_cancel(run)
            self.message_user(request, "Cancellation requested.")
            return HttpResponseRedirect(request.path)
        context = {**(extra_context or {}), "progress": _progress(run)}
        return super().changeform_view(request, object_id, form_url, context)

    def progress_view(self, request: HttpRequest, run: TrainingRun) -> HttpResponse:
        """The run's live part, which its page (and its task's) asks for every 2 s while it is queued or
        running: the whole page reloads once its status differs from the one the page shows."""
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        response = TemplateResponse(request, "admin/training/run_progress.html", {"progress": _progress(run)})
        if request.GET.get("shown", run.status) != run.status:
            response["HX-Refresh"] = "true"
        return response

    def get_urls(self) -> list[Any]:
        return [
            path("train/", self.admin_site.admin_view(self.train_view), name="training_train"),
            *super().get_urls(),
        ]

    def train_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("training.add_trainingrun"):
            raise PermissionDenied
        form = TrainForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                run = run_submit(
                    task=data["task"],
                    options={"method": data["method"], "epochs": data["epochs"]},
                    data_file=Path(data["data_file"]) if data["data_file"] else None,
                    user=signed_in(request),
                )
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                self.message_user(
                    request,
                    _("Run %(number)s queued for a gpu-queue worker.") % {"number": run.pk},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:training_trainingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Train"),
        }
        return TemplateResponse(request, "admin/training/train.html", context)


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = (
        "version",
        "task",
        "method",
        "status",
        "accuracy",
        "macro_f1",
        "abstain_threshold",
        "created_at",
    )
    list_filter = ("task", "status", "method")
    change_list_template = "admin/training/modelversion_change_list.html"
    actions = ["activate", "roll_back", "add_examples"]
    readonly_fields = (
        "task", "status", "method", "base_model", "fit_seconds", "fit_device", "artefact_bytes",
        "peak_memory_bytes", "metrics_table", "confusion_matrix", "abstain_threshold",
        "config", "library_versions", "dataset_hash", "validation_hash", "artefact_path", "artefact_checksum",
        "format_version", "run", "previous", "created_at", "activated_at", "activated_by",
    )  # fmt: skip
    exclude = ("metrics", "labels", "drift_reference")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # versions come from training runs

    def has_activate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(ACTIVATE)

    @admin.display(description="version", ordering="number")
    def version(self, version: ModelVersion) -> str:
        return version.name

    @admin.display(description="accuracy")
    def accuracy(self, version: ModelVersion) -> str:
        return _metric(version, "accuracy")

    @admin.display(description="macro-F1")
    def macro_f1(self, version: ModelVersion) -> str:
        return _metric(version, "macro_f1")

    @admin.display(description="metrics (validation split)")
    def metrics_table(self, version: ModelVersion) -> str:
        if not version.labels:
            return self._retrieval_table(version)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (label, m["precision"], m["recall"], m["f1"], m["support"])
                for label, m in version.metrics.get("per_class", {}).items()
            ),
        )
        return format_html(
            "<p>accuracy {} · macro-F1 {} · ECE {} · abstains below {} "
            "(keeps {} of validation at accuracy {})</p>"
            "<table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{}</table>",
            _metric(version, "accuracy"), _metric(version, "macro_f1"), _metric(version, "ece"),
            f"{version.abstain_threshold:.3f}", _abstain(version).get("coverage"),
            _abstain(version).get("accuracy_kept"), rows,
        )  # fmt: skip

    def _retrieval_table(self, version: ModelVersion) -> str:
        """A retriever's or reranker's scores on its held-out questions, beside the serving model's."""
        names = ("ndcg@10", "recall@10", "mrr@10")
        active = version.metrics.get("active", {})
        rows = format_html_join(
            "",
            "<tr><td>{}</td>" + "<td>{}</td>" * len(names) + "</tr>",
            (
                (_("this version"), *(_metric(version, name) for name in names)),
                (active.get("model", _("serving")), *(_float(active.get(name)) for name in names)),
            ),
        )
        questions = version.metrics.get("dataset_sizes", {}).get("validation_questions")
        return format_html(
            "<p>{} held-out questions</p><table><tr><th></th>{}</tr>{}</table>",
            questions,
            format_html_join("", "<th>{}</th>", ((name,) for name in names)),
            rows,
        )

    @admin.display(description="confusion matrix")
    def confusion_matrix(self, version: ModelVersion) -> str:
        matrix = version.metrics.get("confusion_matrix")
        return mark_safe(confusion_html(version.labels, matrix)) if matrix else "-"

    @admin.action(description="Activate the selected version", permissions=["activate"])
    def activate(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version to activate.", messages.ERROR)
            return
        self._activate(request, queryset.get())

    @admin.action(description="Roll back the task of the selected version", permissions=["activate"])
    def roll_back(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        for task in sorted(set(queryset.values_list("task", flat=True))):
            self._rollback(request, task)

    @admin.action(description="Add labelled examples to the selected knn or icl version")
    def add_examples(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one knn or icl version.", messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:training_examples_add", args=[queryset.get().pk]))

    def examples_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        """Labelled examples for a knn or icl version: its next prediction uses them, no refit."""
        if not request.user.has_perm("training.add_indexedexample"):
            raise PermissionDenied
        version = version_of(version_id)
        form = ExamplesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                added = examples_add(version, form.cleaned_data["examples"], user=signed_in(request))
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                new = (
                    _("; new labels: %(labels)s") % {"labels": ", ".join(added.new_labels)}
                    if added.new_labels
                    else ""
                )
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d example added to %(version)s%(new)s.",
                        "%(count)d examples added to %(version)s%(new)s.",
                        added.added,
                    )
                    % {"count": added.added, "version": version.name, "new": new},
                )
                return HttpResponseRedirect(reverse("admin:training_task", args=[version.task]))
        return TemplateResponse(
            request,
            "admin/training/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Add examples to %(version)s") % {"version": version},
                "explanation": _(
                    "Each example is embedded and stored with the version's examples at once; "
                    "the next prediction votes with it (knn) or may show it to the model (icl)."
                ),
                "form": form,
                "submit": _("Add examples"),
            },
        )

    def _activate(self, request: HttpRequest, version: ModelVersion) -> None:
        try:
            version_activate(version, user=signed_in(request))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"{version.task}: {version.name} is active.", messages.SUCCESS)

    def _rollback(self, request: HttpRequest, task: str) -> None:
        try:
            version = version_rollback(task, user=signed_in(request))
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"{task}: rolled back to {version.name}.", messages.SUCCESS)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "tasks": [spec.name for spec in tasks()]}
        )

    def get_urls(self) -> list[Any]:
        return [
            path("task/<str:task>/", self.admin_site.admin_view(self.task_view), name="training_task"),
            path(
                "<int:version_id>/examples/",
                self.admin_site.admin_view(self.examples_view),
                name="training_examples_add",
            ),
            *super().get_urls(),
        ]

    def task_view(self, request: HttpRequest, task: str) -> HttpResponse:
        """A task's versions side by side, with the active one's confusion matrix, any running job
        (followed live) and its drift audits."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            spec = task_get(task)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:training_modelversion_changelist"))
        if request.method == "POST":
            if not self.has_activate_permission(request):
                raise PermissionDenied
            if "rollback" in request.POST:
                self._rollback(request, task)
            elif version := task_version(task, request.POST.get("activate")):
                self._activate(request, version)
            return HttpResponseRedirect(request.path)
        versions = task_versions(task, limit=8)
        shown = next(
            (v for v in versions if v.status == ModelVersion.Status.ACTIVE), versions[0] if versions else None
        )
        running = task_running_run(task)
        rows = [
            (_("method"), [v.method for v in versions]),
            (_("status"), [v.status for v in versions]),
            (_("accuracy"), [_metric(v, "accuracy") for v in versions]),
            ("macro-F1", [_metric(v, "macro_f1") for v in versions]),
            ("ECE", [_metric(v, "ece") for v in versions]),
            (_("abstain threshold"), [f"{v.abstain_threshold:.3f}" for v in versions]),
            (_("abstain coverage"), [_abstain(v).get("coverage") for v in versions]),
            (_("seconds per epoch"), [_epochs(v) for v in versions]),
            (
                _("fit seconds"),
                [f"{v.fit_seconds:.1f}" if v.fit_seconds is not None else "-" for v in versions],
            ),
            (_("artefact"), [_size(v.artefact_bytes) for v in versions]),
            (_("peak memory"), [_size(v.peak_memory_bytes) for v in versions]),
            (_("training examples"), [v.metrics.get("dataset_sizes", {}).get("train") for v in versions]),
            (_("validation split"), [v.validation_hash[:10] for v in versions]),
            (_("created"), [v.created_at.strftime("%Y-%m-%d %H:%M") for v in versions]),
        ]  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Task %(task)s") % {"task": task},
            "spec": spec,
            "versions": versions,
            "rows": rows,
            "shown": shown,
            "confusion": self.confusion_matrix(shown) if shown else "",
            "progress": _progress(running) if running else None,
            "rollback_to": task_rollback_target(task),
            "can_activate": self.has_activate_permission(request),
            "drift": _drift(task_drift_audits(task, limit=DRIFT_SHOWN), by_task=False),
        }
        return TemplateResponse(request, "admin/training/task.html", context)


@admin.register(DriftAudit)
class DriftAuditAdmin(admin.ModelAdmin):
    change_list_template = "admin/training/driftaudit_change_list.html"
    list_select_related = ("model_version",)
    list_display = (
        "id",
        "model_version",
        "verdict",
        "samples",
        "label_psi",
        "embedding_psi",
        "threshold",
        "created_at",
    )
    list_filter = ("verdict", "model_version__task")
    readonly_fields = (
        "model_version", "verdict", "samples", "label_psi", "embedding_psi", "threshold", "window_start",
        "window_end", "details", "created_at",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        drift = _drift(drift_audits_recent(limit=DRIFT_SHOWN), by_task=True)
        return super().changelist_view(request, {**(extra_context or {}), "drift": drift})


@admin.register(TaskDefinition)
class TaskDefinitionAdmin(admin.ModelAdmin):
    """Tasks created from files: the add page takes the file; a task is read-only once created."""

    list_display = ("name", "label_count", "description", "created_by", "created_at")
    readonly_fields = (
        "name",
        "labels",
        "description",
        "text_column",
        "label_column",
        "created_by",
        "created_at",
    )

    @admin.display(description="labels")
    def label_count(self, definition: TaskDefinition) -> int:
        return len(definition.labels)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TaskFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                dataset = task_create(
                    name=form.cleaned_data["name"],
                    file_name=upload.name,
                    content=upload.read(),
                    text_column=form.cleaned_data["text_column"],
                    label_column=form.cleaned_data["label_column"],
                    description=form.cleaned_data["description"],
                    user=signed_in(request),
                )
            except ApplicationError as error:
                form.add_error("file" if error.field == "data" else "name", error.message)
            else:
                self.message_user(
                    request,
                    _(
                        "Task %(task)s: %(rows)s examples, %(labels)s labels. "
                        "Train it from the Train page (knn serves in seconds)."
                    )
                    % {"task": dataset.task.name, "rows": dataset.rows, "labels": len(dataset.label_counts)},
                )
                return HttpResponseRedirect(reverse("admin:training_task", args=[dataset.task.name]))
        return TemplateResponse(
            request,
            "admin/training/form_page.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Create a task from a file"),
                "explanation": _(
                    "The labels are read from the file; its examples are stored as the task's "
                    "dataset (hash, rows, per-label counts). A bad file is refused with the reason, and "
                    "nothing is stored."
                ),
                "form": form,
                "submit": _("Create task"),
            },
        )
