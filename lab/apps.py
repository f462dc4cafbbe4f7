from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Decision lab"

    def ready(self) -> None:
        from assistant.core import roles

        roles.role_grant(roles.ML_ENGINEER, "lab.view_study", "lab.add_study", "lab.change_study")
