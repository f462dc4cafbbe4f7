"""The claim page's two decisions: accept the triage, or override its route with a note."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from claims.models import LineOfBusiness, Route
from claims.services.decisions import NOTE_LIMIT

ACCEPT, OVERRIDE = "accept", "override"


class MarkedForm(forms.Form):
    """A field in error says so to assistive technology, its message linked to it."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field in self.fields:
            self.fields[field].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{self[field].auto_id}-error"}
            )


class AcceptForm(MarkedForm):
    note = forms.CharField(
        required=False,
        max_length=NOTE_LIMIT,
        label=gettext_lazy("Note (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OverrideForm(MarkedForm):
    """Another route than the triage's (the triage's own is not offered), and why."""

    route = forms.ChoiceField(
        choices=[],
        label=gettext_lazy("New route"),
        error_messages={
            "required": gettext_lazy("Choose the route this claim goes to instead."),
            "invalid_choice": gettext_lazy(
                "Choose a route other than the triage's; to keep its route, accept it."
            ),
        },
    )
    line_of_business = forms.ChoiceField(
        choices=[(value, gettext_lazy(label)) for value, label in LineOfBusiness.choices],
        label=gettext_lazy("Line of business"),
    )
    fraud_suspected = forms.BooleanField(required=False, label=gettext_lazy("Fraud suspected"))
    note = forms.CharField(
        max_length=NOTE_LIMIT,
        label=gettext_lazy("Why (required)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": gettext_lazy("An override needs a note: say why the triage's route is wrong.")
        },
    )

    def __init__(self, *args: Any, triage_route: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["route"]
        assert isinstance(field, forms.ChoiceField)
        others = [(value, gettext(label)) for value, label in Route.choices if value != triage_route]
        field.choices = [("", gettext("choose a route")), *others]
