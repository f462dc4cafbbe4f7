from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "assistant.training"
    label = "training"
    verbose_name = "Fine-tuning and model registry"

    def ready(self) -> None:
        from assistant.core import roles

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
