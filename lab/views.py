"""The decision lab's pages: start a study, follow it, read and export its answer, adopt it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from assistant.core.access import role_required, signed_in
from assistant.core.errors import ApplicationError
from assistant.core.roles import ML_ENGINEER
from assistant.training.registry import tasks
from lab.export import figures, markdown, pdf, table
from lab.forms import AnswersForm, KnowledgeStudyForm, StudyForm
from lab.knowledge import knowledge_study_create
from lab.models import FINISHED, Status, Study
from lab.selectors import collections, progress, studies, study_get
from lab.services import answers_set, recommendation, study_adopt, study_cancel, study_create

engineer_required = role_required(
    ML_ENGINEER, refusal=gettext_lazy("the decision lab is for ML engineers"), error_template="lab/error.html"
)


@engineer_required
def index(request: HttpRequest) -> HttpResponseBase:
    knowledge = request.method == "POST" and "knowledge-collection" in request.POST
    posted = request.POST if request.method == "POST" else None
    form = StudyForm(None if knowledge else posted, tasks=[spec.name for spec in tasks()])
    knowledge_form = KnowledgeStudyForm(
        posted if knowledge else None,
        request.FILES if knowledge else None,
        collections=collections(),
        prefix="knowledge",
    )
    chosen = knowledge_form if knowledge else form
    if request.method == "POST" and chosen.is_valid():
        try:
            created = _create(chosen, signed_in(request))
        except ApplicationError as error:
            chosen.add_error(error.field if error.field in chosen.fields else None, error.message)
        else:
            return redirect("lab:study", study_id=created.pk)
    context = {"form": form, "knowledge_form": knowledge_form, "studies": studies()}
    return render(request, "lab/index.html", context, status=400 if chosen.errors else 200)


def _create(form: StudyForm | KnowledgeStudyForm, user: Any) -> Study:
    data = form.cleaned_data
    if isinstance(form, KnowledgeStudyForm):
        return knowledge_study_create(
            collection=data["collection"],
            questions=None if data["dataset"] else data["questions"],
            dataset=data["dataset"],
            techniques=data["techniques"],
            user=user,
        )
    return study_create(task=data["task"], techniques=data["techniques"], answers=form.answers(), user=user)


@require_GET
@engineer_required
def study(request: HttpRequest, study_id: int) -> HttpResponseBase:
    found = study_get(study_id)
    succeeded = found.status == Status.SUCCEEDED
    context = {
        "study": found,
        "knowledge": found.kind == Study.Kind.KNOWLEDGE,
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
    messages.info(request, _("Study cancelled: its running fits stop at their next progress report."))
    return redirect("lab:study", study_id=study_id)


@require_POST
@engineer_required
def adopt(request: HttpRequest, study_id: int) -> HttpResponseBase:
    if not request.user.has_perm("training.activate_modelversion"):
        raise PermissionDenied(_("activating a version needs the permission to activate model versions"))
    version = study_adopt(study_get(study_id), user=signed_in(request))
    messages.info(
        request,
        _("Version %(number)s (%(method)s) now serves %(task)s.")
        % {"number": version.pk, "method": version.method, "task": version.task},
    )
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
