from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from assistant.core import health
from assistant.core.middleware import refusal
from assistant.core.sections import landing_url, sections_for
from assistant.training.registry import tasks
from assistant.training.selectors import task_states


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Whether each dependency answers; 503 with the reason when any does not."""
    checks = health.readiness()
    ready = all(check.ok for check in checks)
    return JsonResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {check.name: check.as_dict() for check in checks},
        },
        status=200 if ready else 503,
    )


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The start page; signed-in staff also see what serves each task and any training under way."""
    models = []
    if request.user.is_authenticated and request.user.has_perm("training.view_modelversion"):
        models = task_states([spec.name for spec in tasks()])
    return render(
        request,
        "core/home.html",
        {"models": models, "refresh": any(m.running for m in models), "usable": sections_for(request.user)},
    )


@login_required
@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    """Where signing in leads: the section of the person's work."""
    return redirect(landing_url(request.user))


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A page the person may not use: under /api/ the API's error body, elsewhere a page saying
    why and offering the sections they may use."""
    reason = str(exception) or _("you may not use this page")
    if request.path.startswith("/api/"):
        return refusal(request, 403, {"permission": reason}, detail=True)
    return render(
        request, "core/403.html", {"reason": reason, "usable": sections_for(request.user)}, status=403
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A path no view serves: under /api/ the API's error body, elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return refusal(request, 404, {"path": f"no API operation at {request.path}"}, detail=True)
    return defaults.page_not_found(request, exception)
