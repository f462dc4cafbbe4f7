from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrainingConfig(AppConfig):
    name = "assistant.training"
    label = "training"
    verbose_name = "Fine-tuning and model registry"

    def ready(self) -> None:
        from assistant.core import roles
        from assistant.core.sections import Section, section_register

        roles.role_grant(
            roles.ML_ENGINEER,
            *(f"training.view_{model}" for model in ("trainingrun", "modelversion", "driftaudit")),
            "training.add_trainingrun",
            "training.change_trainingrun",
            "training.activate_modelversion",
            "training.add_taskdefinition",
            "training.view_taskdefinition",
            "training.add_indexedexample",
        )
        section_register(
            Section(
                "models",
                _("Models"),
                "admin:training_modelversion_changelist",
                _("Train, compare, activate and roll back the models each task uses"),
                order=60,
                permission="training.view_modelversion",
            )
        )
