from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "assistant.chat"
    label = "chat"
    verbose_name = "Customer-service chat"

    def ready(self) -> None:
        from assistant.chat.intents import CHAT_INTENT
        from assistant.training.registry import task_register

        task_register(CHAT_INTENT)
