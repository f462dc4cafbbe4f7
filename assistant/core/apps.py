from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "assistant.core"
    label = "core"
    verbose_name = "finassist core"

    def ready(self) -> None:
        from assistant.core import checks, roles, throttle  # noqa: F401 - checks registers itself

        throttle.connect()
        # After every migrate, so permissions of newly migrated models reach their roles.
        post_migrate.connect(roles.sync_after_migrate, dispatch_uid="finassist.roles")
