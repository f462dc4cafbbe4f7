"""The lab's forms: start a study, and answer its questionnaire."""

from __future__ import annotations

from typing import Any

from django import forms

from assistant.training.config import METHODS
from lab.recommend import COMPUTE, FREQUENCIES, TOLERANCE, Answers
from lab.services import DEFAULT_TECHNIQUES

DEFAULTS = Answers()


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(value, value) for value in values]


class AnswersForm(forms.Form):
    change = forms.ChoiceField(
        choices=_choices(FREQUENCIES), initial=DEFAULTS.change, label="How often the knowledge changes"
    )
    new_labels = forms.ChoiceField(
        choices=_choices(FREQUENCIES), initial=DEFAULTS.new_labels, label="How often new labels appear"
    )
    citations = forms.BooleanField(required=False, label="Predictions must show what they rest on")
    latency_budget_ms = forms.FloatField(
        min_value=0.1, initial=DEFAULTS.latency_budget_ms, label="Latency budget (p95, ms)"
    )
    min_accuracy = forms.FloatField(
        min_value=0, max_value=1, initial=DEFAULTS.min_accuracy, label="Lowest acceptable accuracy"
    )
    examples_per_label = forms.IntegerField(
        min_value=0, required=False, label="Labelled examples a label (empty: what the task has)"
    )
    compute = forms.ChoiceField(
        choices=_choices(COMPUTE), initial=DEFAULTS.compute, label="Compute for training"
    )
    drift_tolerance = forms.ChoiceField(
        choices=_choices(TOLERANCE),
        initial=DEFAULTS.drift_tolerance,
        label="Tolerance for drift and forgetting",
    )
    requests_per_day = forms.IntegerField(
        min_value=0, initial=DEFAULTS.requests_per_day, label="Requests a day"
    )

    def answers(self) -> dict[str, Any]:
        return {
            name: value for name, value in self.cleaned_data.items() if name in Answers.__dataclass_fields__
        }


class StudyForm(AnswersForm):
    task = forms.ChoiceField(choices=[])
    techniques = forms.MultipleChoiceField(
        choices=_choices(METHODS), initial=list(DEFAULT_TECHNIQUES), widget=forms.CheckboxSelectMultiple
    )

    field_order = ["task", "techniques"]

    def __init__(self, *args: Any, tasks: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["task"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _choices(tasks)
