from django.urls import path

from aml import apis

app_name = "aml-api"

urlpatterns = [
    path("screen", apis.ScreenApi.as_view(), name="screen"),
    path("screen/batch", apis.BatchApi.as_view(), name="batch"),
    path("batches/<int:batch_id>", apis.BatchDetailApi.as_view(), name="batch-detail"),
    path("screenings/<int:screening_id>", apis.ScreeningDetailApi.as_view(), name="screening"),
]
