from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "assistant.integrations"
    label = "integrations"
    verbose_name = "Integrations (API keys and webhooks)"

    def ready(self) -> None:
        from assistant.integrations import schema  # noqa: F401 - registers the OpenAPI security scheme
