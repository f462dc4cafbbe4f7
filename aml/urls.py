from django.urls import path

from aml import views

app_name = "aml"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("alerts/take", views.take, name="take"),
    path("cases/<int:case_id>/", views.case, name="case"),
    path("cases/<int:case_id>/notes", views.note, name="note"),
    path("cases/<int:case_id>/attachments", views.attach, name="attach"),
    path("cases/<int:case_id>/attachments/<int:index>", views.attachment, name="attachment"),
    path("cases/<int:case_id>/questions", views.ask, name="ask"),
    path("cases/<int:case_id>/decision", views.decide, name="decide"),
    path("cases/<int:case_id>/sar", views.sar, name="sar"),
]
