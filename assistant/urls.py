from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from assistant.core import views

admin.site.site_header = "finassist administration"
admin.site.site_title = "finassist"
handler403 = views.forbidden
handler404 = views.not_found

urlpatterns = [
    path("", views.home, name="home"),
    path("start", views.landing, name="landing"),
    path(
        "favicon.ico",
        RedirectView.as_view(
            url=static("core/favicon.svg"), permanent=True, http_method_names=["get", "head"]
        ),
        name="favicon",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="core/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("advisory/", include("advisory.urls")),
    path("api/advisory/", include("advisory.api_urls")),
    path("chat/", include("assistant.chat.urls")),
    path("api/chat/", include("assistant.chat.api_urls")),
    path("api/knowledge/", include("assistant.knowledge.urls")),
    path("api/training/", include("assistant.training.urls")),
    path("claims/", include("claims.urls")),
    path("api/claims/", include("claims.api_urls")),
    path("aml/", include("aml.urls")),
    path("api/aml/", include("aml.api_urls")),
    path("lab/", include("lab.urls")),
    path("api/lab/", include("lab.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
