"""Answer generation: one interface (`base.Backend`), three backends chosen by
FINASSIST_GENERATION_BACKEND, each imported only when it is the one configured."""

from functools import cache

from django.conf import settings

from assistant.generation.base import Backend


@cache
def backend() -> Backend:
    """The configured answer backend, built once per process."""
    name = settings.GENERATION_BACKEND
    if name == "openai":
        from assistant.generation.remote import OpenAICompatible

        return OpenAICompatible.from_settings()
    if name == "transformers":
        from assistant.generation.local import LocalCausalModel

        return LocalCausalModel.from_settings()
    from assistant.generation.extractive import Extractive

    return Extractive()
