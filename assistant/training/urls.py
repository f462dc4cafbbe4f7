from django.urls import path

from assistant.training.apis import ExamplesAddApi, TaskCreateApi

app_name = "training"
urlpatterns = [
    path("tasks", TaskCreateApi.as_view(), name="task-create"),
    path("versions/<int:version_id>/examples", ExamplesAddApi.as_view(), name="examples-add"),
]
