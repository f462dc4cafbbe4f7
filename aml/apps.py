from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AmlConfig(AppConfig):
    name = "aml"
    verbose_name = "Anti-money laundering"

    def ready(self) -> None:
        from aml import demo  # noqa: F401 - registers the demo data loader
        from aml.learning import TYPOLOGY_TASK
        from assistant.core import roles
        from assistant.core.sections import Section, section_register
        from assistant.training.registry import task_register

        task_register(TYPOLOGY_TASK)

        roles.role_grant(roles.AML_ANALYST, "aml.view_customer", "aml.view_account", "aml.view_transaction")
        section_register(
            Section(
                "aml",
                _("AML"),
                "aml:queue",
                _("Alerts: take the next, weigh the evidence, close or escalate with a SAR draft"),
                order=30,
                roles=(roles.AML_ANALYST,),
                lands=(roles.AML_ANALYST,),
            )
        )
