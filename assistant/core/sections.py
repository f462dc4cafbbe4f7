"""The sections of the site (advisory, claims, AML, chat, the lab, the admin) and who may use each.

Each domain app registers its sections in `AppConfig.ready()` (the core never names a domain
app's pages). Every page's header offers the sections the person may use, the start page lists
them, a refusal (403) page says which they may use instead, and signing in lands a person on the
section of their role's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Person = User | AnonymousUser


@dataclass(frozen=True)
class Section:
    """A part of the site. Who may use it: anyone (`public`), or a signed-in person with one of
    `roles`, with `permission`, or who is staff (`staff`); superusers may use every section. Its
    title and description are shown in the reader's language (lazy translations)."""

    key: str
    title: StrOrPromise
    url_name: str
    description: StrOrPromise
    order: int
    roles: tuple[str, ...] = ()
    permission: str | None = None
    staff: bool = False
    public: bool = False
    lands: tuple[str, ...] = ()  # the roles whose work this section is: they land here on signing in

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def allows(self, user: Person, roles: frozenset[str]) -> bool:
        if self.public:
            return True
        if not isinstance(user, User) or not user.is_authenticated:
            return False
        return (
            user.is_superuser
            or bool(roles.intersection(self.roles))
            or (self.permission is not None and user.has_perm(self.permission))
            or (self.staff and user.is_staff)
        )


_sections: dict[str, Section] = {}


def section_register(section: Section) -> None:
    _sections[section.key] = section
    ordered = sorted(_sections.values(), key=lambda known: known.order)
    _sections.clear()
    _sections.update((known.key, known) for known in ordered)


def _roles(user: Person) -> frozenset[str]:
    if not isinstance(user, User) or not user.is_authenticated:
        return frozenset()
    return frozenset(user.groups.values_list("name", flat=True))


def sections_for(user: Person) -> list[Section]:
    """The sections `user` may use, in their order."""
    roles = _roles(user)
    return [section for section in _sections.values() if section.allows(user, roles)]


def landing_url(user: Person) -> str:
    """Where `user` starts after signing in: their role's section, else the start page."""
    roles = _roles(user)
    for section in _sections.values():
        if roles.intersection(section.lands) and section.allows(user, roles):
            return section.url
    return reverse("home")
