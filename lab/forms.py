"""The lab's forms: start a study, and answer its questionnaire."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assistant.training.config import METHODS
from lab.knowledge import DEFAULT_KNOWLEDGE_TECHNIQUES, KNOWLEDGE_TECHNIQUES, QUESTION_DATASETS
from lab.recommend import COMPUTE, FREQUENCIES, TOLERANCE, Answers
from lab.services import DEFAULT_TECHNIQUES

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

QUESTIONS_MAX_BYTES = 5_000_000

DEFAULTS = Answers()


# The questionnaire's answers in words (a technique, task or collection is named as it is).
ANSWER_LABELS = {
    "rarely": gettext_lazy("rarely"),
    "monthly": gettext_lazy("monthly"),
    "weekly": gettext_lazy("weekly"),
    "daily": gettext_lazy("daily"),
    "none": gettext_lazy("none"),
    "cpu": gettext_lazy("CPU"),
    "gpu": gettext_lazy("GPU"),
    "low": gettext_lazy("low"),
    "medium": gettext_lazy("medium"),
    "high": gettext_lazy("high"),
}


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


def _answer_choices(values: Any) -> list[tuple[str, StrOrPromise]]:
    return [(value, ANSWER_LABELS.get(value, value)) for value in values]


class AnswersForm(forms.Form):
    change = forms.ChoiceField(
        choices=_answer_choices(FREQUENCIES),
        initial=DEFAULTS.change,
        label=gettext_lazy("How often the knowledge changes"),
    )
    new_labels = forms.ChoiceField(
        choices=_answer_choices(FREQUENCIES),
        initial=DEFAULTS.new_labels,
        label=gettext_lazy("How often new labels appear"),
    )
    citations = forms.BooleanField(
        required=False, label=gettext_lazy("Predictions must show what they rest on")
    )
    latency_budget_ms = forms.FloatField(
        min_value=0.1, initial=DEFAULTS.latency_budget_ms, label=gettext_lazy("Latency budget (p95, ms)")
    )
    min_accuracy = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=DEFAULTS.min_accuracy,
        label=gettext_lazy("Lowest acceptable accuracy"),
    )
    examples_per_label = forms.IntegerField(
        min_value=0,
        required=False,
        label=gettext_lazy("Labelled examples a label (empty: what the task has)"),
    )
    compute = forms.ChoiceField(
        choices=_answer_choices(COMPUTE), initial=DEFAULTS.compute, label=gettext_lazy("Compute for training")
    )
    drift_tolerance = forms.ChoiceField(
        choices=_answer_choices(TOLERANCE),
        initial=DEFAULTS.drift_tolerance,
        label=gettext_lazy("Tolerance for drift and forgetting"),
    )
    requests_per_day = forms.IntegerField(
        min_value=0, initial=DEFAULTS.requests_per_day, label=gettext_lazy("Requests a day")
    )

    def answers(self) -> dict[str, Any]:
        return {
            name: value for name, value in self.cleaned_data.items() if name in Answers.__dataclass_fields__
        }


class StudyForm(AnswersForm):
    task = forms.ChoiceField(choices=[], label=gettext_lazy("Task"))
    techniques = forms.MultipleChoiceField(
        choices=_choices(METHODS),
        initial=list(DEFAULT_TECHNIQUES),
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Techniques"),
    )

    field_order = ["task", "techniques"]

    def __init__(self, *args: Any, tasks: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["task"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _choices(tasks)


class KnowledgeStudyForm(forms.Form):
    """A knowledge study: a collection, its questions (a dataset's or a file's), the techniques."""

    collection = forms.ChoiceField(choices=[], label=gettext_lazy("Collection"))
    dataset = forms.ChoiceField(
        choices=[("", gettext_lazy("a file of my own")), *_choices(QUESTION_DATASETS)],
        required=False,
        label=gettext_lazy("Questions from"),
    )
    questions = forms.FileField(
        required=False,
        label=gettext_lazy('Questions (JSONL of {"query", "relevant", "split"})'),
        help_text=gettext_lazy("split: train or test; without it, a hash of the question gives half to each"),
    )
    techniques = forms.MultipleChoiceField(
        choices=_choices(KNOWLEDGE_TECHNIQUES),
        initial=list(DEFAULT_KNOWLEDGE_TECHNIQUES),
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Techniques"),
    )

    def __init__(self, *args: Any, collections: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["collection"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _choices(collections)

    def clean_questions(self) -> list[Any] | None:
        upload = self.cleaned_data.get("questions")
        if upload is None:
            return None
        if upload.size > QUESTIONS_MAX_BYTES:
            raise forms.ValidationError(_("at most %(limit)s bytes") % {"limit": f"{QUESTIONS_MAX_BYTES:,}"})
        try:
            lines = upload.read().decode("utf-8").splitlines()
            return [json.loads(line) for line in lines if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise forms.ValidationError(_("not JSON lines in UTF-8 (%(error)s)") % {"error": error}) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("dataset") and not cleaned.get("questions") and "questions" not in self.errors:
            self.add_error("questions", _("give a file of questions, or choose a dataset's"))
        return cleaned
