"""Every route the URL configuration serves, and expectation tables written as aligned columns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# The views Django's ModelAdmin generates for each registered model (add, change, delete, history,
# and the redirect of an object's bare address): the admin checks their permissions itself.
ADMIN_GENERATED = ("django.contrib.admin.options", "django.views.generic.base")


@dataclass(frozen=True)
class Route:
    name: str  # namespaced ("advisory:client"); an unnamed route is known by its pattern
    pattern: str
    module: str  # where its view is defined

    @property
    def admin_generated(self) -> bool:
        """One of the ModelAdmin views of a model (its changelist excepted: each has a row)."""
        return (
            self.pattern.startswith("admin/")
            and self.module in ADMIN_GENERATED
            and not self.name.endswith("_changelist")
        )


def _walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}{entry.name}" if entry.name else pattern
            yield Route(name, pattern, getattr(entry.callback, "__module__", ""))


def routes() -> list[Route]:
    """Every route of the project's URL configuration, included configurations walked."""
    return list(_walk(get_resolver(), "", ""))


def table(text: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """A header line of column names and a row per line, each a key and its cells, split on spaces;
    blank lines and lines starting with # are left out. Rows are kept as written (a row with too
    few or too many cells is for the caller to report)."""
    lines = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    header, *rows = lines
    found: dict[str, tuple[str, ...]] = {}
    for key, *cells in rows:
        if key in found:
            raise ValueError(f"row {key} is written twice")
        found[key] = tuple(cells)
    return tuple(header[1:]), found


def row_line(key: str, cells: Any, width: int) -> str:
    """A row as the table writes it, to copy into the table."""
    return f"{key:<{width - 1}} " + " ".join(f"{cell!s:<5}" for cell in cells).rstrip()
