from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Decision lab"

    def ready(self) -> None:
        from assistant.core import roles
        from assistant.core.sections import Section, section_register

        roles.role_grant(roles.ML_ENGINEER, "lab.view_study", "lab.add_study", "lab.change_study")
        section_register(
            Section(
                "lab",
                _("Decision lab"),
                "lab:index",
                _("Compare retrieval, fine-tuning and prompting on your own task"),
                order=70,
                roles=(roles.ML_ENGINEER,),
                lands=(roles.ML_ENGINEER,),
            )
        )
