"""Demo personas and demo data, for `make run` and for trying the application out.

Domain apps register their own demo data loaders in `AppConfig.ready()` with
`demo_loader`; `demo_data_load` runs them in registration order. Loaders must be
idempotent: `make run` calls them on every start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from assistant.core import roles
from assistant.core.errors import ApplicationError
from assistant.integrations.keys import token_issue, tokens_revoke


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    role: str | None
    superuser: bool = False
    api_token: bool = False  # for trying the user-facing APIs from the command line


PERSONAS = (
    Persona("admin", "Ada", "Admin", None, superuser=True),
    Persona("alice", "Alice", "Advisor", roles.ADVISOR, api_token=True),
    Persona("bob", "Bob", "Advisor", roles.ADVISOR),
    Persona("kim", "Kim", "Knowledge", roles.KNOWLEDGE_MANAGER),
    Persona("cal", "Cal", "Adjuster", roles.CLAIMS_ADJUSTER),
    Persona("ana", "Ana", "Analyst", roles.AML_ANALYST),
    Persona("ali", "Ali", "Analyst", roles.AML_ANALYST),
    Persona("mel", "Mel", "Engineer", roles.ML_ENGINEER),
    Persona("sam", "Sam", "Support", roles.SUPPORT_AGENT),
)


@dataclass(frozen=True)
class DemoLogin:
    persona: Persona
    user: User
    token: str | None


def _refuse_in_production() -> None:
    if settings.PRODUCTION:
        raise ApplicationError("demo users and data are refused when FINASSIST_ENVIRONMENT=production")


@transaction.atomic
def demo_users_create(*, password: str) -> list[DemoLogin]:
    """Create (or reset) one user per persona; those marked get an API token."""
    _refuse_in_production()
    logins = []
    for persona in PERSONAS:
        staff = persona.superuser or (persona.role is not None and roles.ROLES[persona.role].staff)
        user, _ = User.objects.update_or_create(
            username=persona.username,
            defaults={
                "first_name": persona.first_name,
                "last_name": persona.last_name,
                "email": f"{persona.username}@example.com",
                "is_staff": staff,
                "is_superuser": persona.superuser,
                "is_active": True,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        if persona.role is not None:
            user.groups.set([Group.objects.get(name=persona.role)])
        token = None
        if persona.api_token:  # a new one each time: only its hash is kept, so the old cannot be shown
            tokens_revoke(user)
            token = token_issue(user)
        logins.append(DemoLogin(persona, user, token))
    return logins


def demo_user(username: str) -> User:
    """A persona's user, for demo data loaders; the personas must exist."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise ApplicationError(f"demo user {username!r} is missing: run create_demo_users first") from None


DemoLoader = Callable[[], str]
_loaders: dict[str, DemoLoader] = {}


def demo_loader(name: str) -> Callable[[DemoLoader], DemoLoader]:
    """Register a function that loads demo data and returns a one-line summary."""

    def register(loader: DemoLoader) -> DemoLoader:
        _loaders[name] = loader
        return loader

    return register


def demo_data_load(only: Sequence[str] | None = None) -> dict[str, str]:
    """Run the demo loaders (those named in `only`, if given) and return their summaries."""
    _refuse_in_production()
    unknown = sorted(set(only or ()) - set(_loaders))
    if unknown:
        raise ApplicationError(f"no demo data named {', '.join(unknown)} (there are {', '.join(_loaders)})")
    summaries = {}
    for name, loader in _loaders.items():
        if only and name not in only:
            continue
        with transaction.atomic():
            summaries[name] = loader()
    return summaries
