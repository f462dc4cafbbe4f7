from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"

    def ready(self) -> None:
        from assistant.core import roles
        from claims import demo  # noqa: F401 - registers the demo data loader

        roles.role_grant(roles.CLAIMS_INTEGRATION, "claims.view_policy")
