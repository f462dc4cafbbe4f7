"""Classification tasks, so that training is written once: those domain apps register, and
those people create from a file (stored in the database, `services.task_create`).

A domain app calls `task_register` in its `AppConfig.ready()` with the task's name, its
labels and how to build its labelled examples; the core never imports a domain app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import ImproperlyConfigured

from assistant.core.errors import ApplicationError

if TYPE_CHECKING:
    from assistant.training.models import ModelVersion, TaskDefinition


class Example(NamedTuple):
    text: str
    label: str


@dataclass(frozen=True)
class TaskSpec:
    name: str
    labels: tuple[str, ...]
    # The task's own labelled examples (from the app's data or a dataset file); `train --data`
    # replaces them. Raises ApplicationError when they cannot be had (a missing dataset).
    examples: Callable[[], Sequence[Example]]
    description: str = ""
    # One line per label that says what it means (zero-shot embeds it instead of the label's name).
    label_descriptions: dict[str, str] = field(default_factory=dict)
    # A dataset's own label names and the task's label each stands for (evaluate_model --data).
    label_aliases: dict[str, str] = field(default_factory=dict)
    # Columns of a CSV or JSONL file of examples for this task.
    text_column: str = "text"
    label_column: str = "label"
    # Training options this task overrides (see training.config.TrainingConfig).
    defaults: dict[str, Any] = field(default_factory=dict)
    # Serve with int8 weights in the encoder's linear layers when on a CPU (faster than float32
    # and bfloat16 on short texts: docs/training.md, Serving): for tasks scored in bulk, once its
    # accuracy has been measured.
    quantized: bool = False
    # What serving a version needs besides its model, fitted on its predictions (a combination with
    # rules or other signals): `prepare(version)` builds and stores it, and is safe to call twice.
    # Whoever activates a version in a worker or a command calls it there; a web process queues it
    # (`training.version_prepare`). A request never fits: until it is built the version answers 503.
    prepare: Callable[[ModelVersion], object] | None = None
    # Whether what `prepare` builds is there for the version (as things are set now): the training
    # sweep prepares again an active version that still lacks it (its worker died, its message was
    # lost, a setting it depends on changed and the fit it asked for was lost).
    prepared: Callable[[ModelVersion], bool] | None = None
    # A task that is not a classifier (a retriever's encoder) fits, evaluates and saves itself:
    # `fit(job: techniques.TaskJob) -> techniques.TaskFitted` gives what its version records (not
    # typed here: the techniques import this module). It has no labels; `data_check(path)` refuses
    # a bad data file before a run is queued.
    fit: Callable[[Any], Any] | None = None
    data_check: Callable[[Path], object] | None = None
    # Whether the task serves a stock model while none of its versions is active: rolling back its
    # first version then leaves none active (and `prepare` returns it to the stock model).
    stock_without_version: bool = False

    def __post_init__(self) -> None:
        if self.fit is not None:
            return
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ImproperlyConfigured(f"task {self.name!r}: labels must be two or more distinct names")


class UnknownTask(ApplicationError):
    pass


_tasks: dict[str, TaskSpec] = {}
# Tasks named by a prefix and what follows it (`embedding:<collections>`), resolved when asked for.
_families: dict[str, Callable[[str], TaskSpec]] = {}


def task_register(spec: TaskSpec) -> None:
    if spec.name in _tasks and _tasks[spec.name] != spec:
        raise ImproperlyConfigured(f"task {spec.name!r} is registered twice")
    _tasks[spec.name] = spec


def task_family_register(prefix: str, resolve: Callable[[str], TaskSpec]) -> None:
    """Tasks whose names start with `prefix`: `resolve(name)` gives the spec of one (UnknownTask if
    it names nothing)."""
    if _families.get(prefix, resolve) != resolve:
        raise ImproperlyConfigured(f"task family {prefix!r} is registered twice")
    _families[prefix] = resolve


def is_registered(name: str) -> bool:
    return name in _tasks or any(name.startswith(prefix) for prefix in _families)


def task_get(name: str) -> TaskSpec:
    if name in _tasks:
        return _tasks[name]
    for prefix, resolve in _families.items():
        if name.startswith(prefix):
            return resolve(name)
    from assistant.training.models import TaskDefinition

    definition = TaskDefinition.objects.filter(name=name).first()
    if definition is None:
        known = ", ".join(spec.name for spec in tasks()) or "none"
        raise UnknownTask(f"no classification task {name!r}; tasks: {known}", field="task")
    return created_task(definition)


def tasks() -> list[TaskSpec]:
    """Every task: registered ones and those created from files, by name."""
    from assistant.training.models import TaskDefinition

    created = [created_task(d) for d in TaskDefinition.objects.exclude(name__in=list(_tasks))]
    return sorted([*_tasks.values(), *created], key=lambda spec: spec.name)


def created_task(definition: TaskDefinition) -> TaskSpec:
    """A task created from a file, as a spec: it trains on its newest dataset."""

    def examples() -> list[Example]:
        from assistant.training.models import DatasetRow

        newest = definition.datasets.order_by("-created_at", "-pk").first()
        if newest is None:
            raise UnknownTask(f"task {definition.name!r} has no dataset", field="task")
        rows = DatasetRow.objects.filter(dataset=newest).order_by("pk").values_list("text", "label")
        return [Example(text, label) for text, label in rows]

    return TaskSpec(
        name=definition.name,
        labels=tuple(definition.labels),
        examples=examples,
        description=definition.description,
        text_column=definition.text_column,
        label_column=definition.label_column,
    )
