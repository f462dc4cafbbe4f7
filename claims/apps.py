from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"

    def ready(self) -> None:
        from assistant.core import roles
        from assistant.core.sections import Section, section_register
        from assistant.training.registry import task_register
        from claims import demo  # noqa: F401 - registers the demo data loader
        from claims.learning import TASKS

        for spec in TASKS:
            task_register(spec)
        roles.role_grant(
            roles.CLAIMS_ADJUSTER,
            "claims.view_policy",
            "claims.view_claim",
            "claims.view_triage",
            "claims.add_decision",
            "claims.change_decision",
            "claims.view_decision",
        )
        section_register(
            Section(
                "claims",
                _("Claims"),
                "claims:queue",
                _("Triaged claims: evidence, policy check, report, decision"),
                order=20,
                roles=(roles.CLAIMS_ADJUSTER,),
                lands=(roles.CLAIMS_ADJUSTER,),
            )
        )
