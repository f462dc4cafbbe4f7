from django.urls import path

from claims import apis

app_name = "claims-api"

urlpatterns = [
    path("", apis.ClaimSubmitApi.as_view(), name="submit"),
    path("batch", apis.ClaimBatchApi.as_view(), name="batch"),
    path("<int:claim_id>", apis.ClaimDetailApi.as_view(), name="detail"),
    path("<int:claim_id>/report", apis.ClaimReportApi.as_view(), name="report"),
    path("<int:claim_id>/report.pdf", apis.ClaimReportPdfApi.as_view(), name="report-pdf"),
]
