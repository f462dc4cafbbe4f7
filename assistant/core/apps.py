from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "assistant.core"
    label = "core"
    verbose_name = "finassist core"

    def ready(self) -> None:
        from assistant.core import checks, roles, throttle  # noqa: F401 - checks registers itself
        from assistant.core.sections import Section, section_register

        throttle.connect()
        # After every migrate, so permissions of newly migrated models reach their roles.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="finassist.roles")
        section_register(
            Section(
                "admin",
                _("Administration"),
                "admin:index",
                _("Users and roles, and everything the other sections keep"),
                order=90,
                staff=True,
            )
        )
