from django.urls import path

from lab import views

app_name = "lab"
urlpatterns = [
    path("", views.index, name="index"),
    path("studies/<int:study_id>/", views.study, name="study"),
    path("studies/<int:study_id>/answers", views.answers, name="answers"),
    path("studies/<int:study_id>/cancel", views.cancel, name="cancel"),
    path("studies/<int:study_id>/adopt", views.adopt, name="adopt"),
    path("studies/<int:study_id>/export.md", views.export_markdown, name="export-md"),
    path("studies/<int:study_id>/export.pdf", views.export_pdf, name="export-pdf"),
]
