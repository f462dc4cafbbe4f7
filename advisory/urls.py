from django.urls import path

from advisory import views

app_name = "advisory"

urlpatterns = [
    path("", views.client_list, name="clients"),
    path("clients/<int:client_id>/", views.client_detail, name="client"),
    path("clients/<int:client_id>/export", views.client_export, name="client-export"),
    path("ask/", views.ask, name="ask"),
    path("answers/", views.answer_create, name="answer-create"),
    path("answers/<int:answer_id>/", views.answer_detail, name="answer"),
    path("answers/<int:answer_id>/feedback", views.answer_feedback, name="answer-feedback"),
    path("answers/<int:answer_id>/citations/<int:number>/", views.citation_detail, name="citation"),
]
