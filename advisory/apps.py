from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdvisoryConfig(AppConfig):
    name = "advisory"
    verbose_name = "Advisory"

    def ready(self) -> None:
        from advisory import demo  # noqa: F401 - registers the demo data loader
        from advisory.selectors import helpful_passages
        from assistant.core import roles
        from assistant.core.sections import Section, section_register
        from assistant.knowledge.tuning import helpful_source_register

        helpful_source_register(helpful_passages)
        roles.role_grant(
            roles.ADVISOR, "advisory.view_client", "advisory.add_client", "advisory.change_client"
        )
        section_register(
            Section(
                "advisory",
                _("Advisory"),
                "advisory:clients",
                _("Your clients, and cited answers about them, products and markets"),
                order=10,
                roles=(roles.ADVISOR,),
                lands=(roles.ADVISOR,),
            )
        )
