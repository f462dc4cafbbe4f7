"""Answer generation: one interface (`base.Backend`), three backends chosen by
FINASSIST_GENERATION_BACKEND, each imported only when it is the one used."""

from functools import cache

from django.conf import settings

from assistant.generation.base import Backend


@cache
def backend(name: str | None = None) -> Backend:
    """The answer backend of that name (by default the configured one), built once per process."""
    name = name or settings.GENERATION_BACKEND
    if name == "openai":
        from assistant.generation.remote import OpenAICompatible

        return OpenAICompatible.from_settings()
    if name == "transformers":
        from assistant.generation.local import LocalCausalModel

        return LocalCausalModel.from_settings()
    from assistant.generation.extractive import Extractive

    return Extractive()
