from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "assistant.chat"
    label = "chat"
    verbose_name = "Customer-service chat"

    def ready(self) -> None:
        from assistant.chat.intents import CHAT_INTENT, CHAT_INTENT_MULTILINGUAL
        from assistant.chat.selectors import helpful_passages
        from assistant.core import roles
        from assistant.core.sections import Section, section_register
        from assistant.knowledge.tuning import helpful_source_register
        from assistant.training.registry import task_register

        task_register(CHAT_INTENT)
        helpful_source_register(helpful_passages)
        task_register(CHAT_INTENT_MULTILINGUAL)
        post_migrate.connect(_routes_sync, sender=self)
        roles.role_grant(
            roles.SUPPORT_AGENT,
            "chat.view_conversation",
            "chat.view_message",
            "chat.view_ticket",
            "chat.change_ticket",
            "chat.view_intentroute",
            "chat.change_intentroute",
        )
        section_register(
            Section(
                "chat",
                _("Customer chat"),
                "chat:chat",
                _("Ask the bank's assistant; a colleague takes over where it should"),
                order=40,
                public=True,
            )
        )
        section_register(
            Section(
                "chat-desk",
                _("Chat desk"),
                "chat:staff",
                _("Conversations handed over, tickets, and how the assistant is doing"),
                order=45,
                permission="chat.view_ticket",
                lands=(roles.SUPPORT_AGENT,),
            )
        )


def _routes_sync(**kwargs: object) -> None:
    from assistant.chat.services import routes_sync

    routes_sync()
