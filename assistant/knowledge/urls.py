from django.urls import path

from assistant.knowledge.apis import SearchApi

app_name = "knowledge"
urlpatterns = [path("search", SearchApi.as_view(), name="search")]
