from django.urls import path

from advisory import apis

urlpatterns = [
    path("clients/", apis.ClientListApi.as_view(), name="advisory-api-clients"),
    path("clients/<int:client_id>/", apis.ClientDetailApi.as_view(), name="advisory-api-client"),
    path("clients/<int:client_id>/export", apis.ClientExportApi.as_view(), name="advisory-api-client-export"),
    path("answers/", apis.AnswerCreateApi.as_view(), name="advisory-api-answers"),
    path("answers/<int:answer_id>/", apis.AnswerDetailApi.as_view(), name="advisory-api-answer"),
    path(
        "answers/<int:answer_id>/feedback",
        apis.AnswerFeedbackApi.as_view(),
        name="advisory-api-answer-feedback",
    ),
]
