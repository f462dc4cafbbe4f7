"""The roles people and systems have, as Django groups with their permissions.

The core declares the roles; each domain app grants its own model permissions to them in
its `AppConfig.ready()`, so the core never names a domain app's models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

logger = logging.getLogger("finassist.core")


@dataclass(frozen=True)
class Role:
    name: str
    staff: bool  # works in the admin


ADVISOR = "advisor"
KNOWLEDGE_MANAGER = "knowledge_manager"
CLAIMS_ADJUSTER = "claims_adjuster"
AML_ANALYST = "aml_analyst"
ML_ENGINEER = "ml_engineer"
SUPPORT_AGENT = "support_agent"

ROLES = {
    role.name: role
    for role in (
        Role(ADVISOR, staff=False),
        Role(KNOWLEDGE_MANAGER, staff=True),
        Role(CLAIMS_ADJUSTER, staff=False),
        Role(AML_ANALYST, staff=False),
        Role(ML_ENGINEER, staff=True),
        Role(SUPPORT_AGENT, staff=True),
    )
}

_grants: dict[str, set[str]] = {name: set() for name in ROLES}


def role_grant(role: str, *permissions: str) -> None:
    """Grant `app_label.codename` permissions to a role (call from AppConfig.ready)."""
    if role not in ROLES:
        raise ImproperlyConfigured(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    _grants[role].update(permissions)


def role_permissions(role: str) -> frozenset[str]:
    return frozenset(_grants[role])


@transaction.atomic
def roles_sync() -> None:
    """Create a group per role and set its permissions to exactly what was granted."""
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for name in ROLES:
        group, _ = Group.objects.get_or_create(name=name)
        wanted = _grants[name]
        permissions = list(
            Permission.objects.filter(
                content_type__app_label__in={p.split(".", 1)[0] for p in wanted}
            ).select_related("content_type")
        )
        found = [p for p in permissions if f"{p.content_type.app_label}.{p.codename}" in wanted]
        missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        if missing:
            raise ImproperlyConfigured(f"role {name}: no such permissions {sorted(missing)}")
        group.permissions.set(found)
    logger.info("roles synchronised: %s", ", ".join(ROLES))


def sync_after_migrate(sender: Any, **kwargs: Any) -> None:
    # post_migrate fires once per app with models; by the last one every table exists.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender is with_models[-1]:
        roles_sync()


def user_has_role(user: User | AnonymousUser, role: str) -> bool:
    """Whether a signed-in user holds the role (superusers hold every role)."""
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=role).exists()
