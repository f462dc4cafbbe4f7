from django.apps import AppConfig


class AdvisoryConfig(AppConfig):
    name = "advisory"
    verbose_name = "Advisory"

    def ready(self) -> None:
        from advisory import demo  # noqa: F401 - registers the demo data loader
        from assistant.core import roles

        roles.role_grant(
            roles.ADVISOR, "advisory.view_client", "advisory.add_client", "advisory.change_client"
        )
