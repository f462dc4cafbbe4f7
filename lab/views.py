"""The decision lab's pages: start a study, follow it, read and export its answer, adopt it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError
from assistant.core.roles import ML_ENGINEER
from assistant.training.registry import tasks
from lab.export import figures, markdown, pdf, table
from lab.forms import AnswersForm, StudyForm
from lab.models import FINISHED, Status
from lab.selectors import progress, studies, study_get
from lab.services import answers_set, recommendation, study_adopt, study_cancel, study_create

engineer_required = role_required(
    ML_ENGINEER, refusal="the decision lab is for ML engineers", error_template="lab/error.html"
)


@engineer_required
def index(request: HttpRequest) -> HttpResponseBase:
    names = [spec.name for spec in tasks()]
    form = StudyForm(request.POST or None, tasks=names)
    if request.method == "POST" and form.is_valid():
        try:
            created = study_create(
                task=form.cleaned_data["task"],
                techniques=form.cleaned_data["techniques"],
                answers=form.answers(),
                user=signed_in(request),
            )
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("lab:study", study_id=created.pk)
    return render(
        request, "lab/index.html", {"form": form, "studies": studies()}, status=400 if form.errors else 200
    )


@require_GET
@engineer_required
def study(request: HttpRequest, study_id: int) -> HttpResponseBase:
    found = study_get(study_id)
    succeeded = found.status == Status.SUCCEEDED
    context = {
        "study": found,
        "finished": found.status in FINISHED,
        "progress": progress(found),
        "rows": table(found),
        "figures": figures(found),
        "advice": recommendation(found) if succeeded else None,
        "answers": AnswersForm(initial=found.answers),
    }
    return render(request, "lab/study.html", context)


@require_POST
@engineer_required
def answers(request: HttpRequest, study_id: int) -> HttpResponseBase:
    found = study_get(study_id)
    form = AnswersForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in form.errors.items()),
        )
    else:
        answers_set(found, form.answers())
    return redirect("lab:study", study_id=found.pk)


@require_POST
@engineer_required
def cancel(request: HttpRequest, study_id: int) -> HttpResponseBase:
    study_cancel(study_get(study_id))
    messages.info(request, "Study cancelled: its running fits stop at their next progress report.")
    return redirect("lab:study", study_id=study_id)


@require_POST
@engineer_required
def adopt(request: HttpRequest, study_id: int) -> HttpResponseBase:
    if not request.user.has_perm("training.activate_modelversion"):
        raise PermissionDenied("activating a version needs the permission to activate model versions")
    version = study_adopt(study_get(study_id), user=signed_in(request))
    messages.info(request, f"Version {version.pk} ({version.method}) now serves {version.task}.")
    return redirect("lab:study", study_id=study_id)


@require_GET
@engineer_required
def export_markdown(request: HttpRequest, study_id: int) -> HttpResponse:
    found = study_get(study_id)
    response = HttpResponse(markdown(found), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="study-{found.pk}.md"'
    return response


@require_GET
@engineer_required
def export_pdf(request: HttpRequest, study_id: int) -> HttpResponse:
    found = study_get(study_id)
    response = HttpResponse(pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="study-{found.pk}.pdf"'
    return response
