from django.urls import path

from lab.apis import StudiesApi, StudyActionApi, StudyAnswersApi, StudyApi

app_name = "lab-api"
urlpatterns = [
    path("studies", StudiesApi.as_view(), name="studies"),
    path("studies/<int:study_id>", StudyApi.as_view(), name="study"),
    path("studies/<int:study_id>/answers", StudyAnswersApi.as_view(), name="answers"),
    path("studies/<int:study_id>/<str:action>", StudyActionApi.as_view(), name="action"),
]
