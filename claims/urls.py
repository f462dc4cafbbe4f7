from django.urls import path

from claims import views

app_name = "claims"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("models/", views.models, name="models"),
    path("<int:claim_id>/", views.claim, name="claim"),
    path("<int:claim_id>/report", views.report, name="report"),
    path("<int:claim_id>/report.pdf", views.report_as_pdf, name="report-pdf"),
]
