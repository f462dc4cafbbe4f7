"""Typed, validated reading of the environment: the only place settings come from.

Every variable is declared once, with its default and a one-line help text, so that
`.env.example`, the README's configuration table and the tests can all be checked
against the same list. Bad values are collected, not raised one at a time: start-up
stops with a single message that names every offending variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")
F = TypeVar("F")


class ConfigurationError(ImproperlyConfigured):
    """One or more environment variables are missing or malformed."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None
    doc: str


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a `.env` file of `NAME=value` lines; `#` starts a comment line."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigurationError(f"{path.name}, line {number}: expected NAME=value, got {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


_PERIODS = {"s": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
_SECRET_NAMES = ("SECRET", "PASSWORD", "TOKEN", "KEY")


def _shown(name: str, raw: str) -> str:
    """A value as it may appear in an error message: secrets hidden, URL passwords masked."""
    if any(part in name for part in _SECRET_NAMES):
        return "<hidden>"
    return repr(re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", raw))


class Env:
    """Reads declared variables from a mapping (the process environment over `.env`).

    An empty value counts as unset.
    """

    def __init__(self, source: Mapping[str, str]) -> None:
        self._source = source
        self.declared: dict[str, Variable] = {}
        self.errors: list[str] = []

    def _raw(self, name: str, default: str | None, doc: str) -> str | None:
        if name in self.declared:
            raise ValueError(f"{name} is declared twice")
        self.declared[name] = Variable(name, default, doc)
        value = (self._source.get(name) or "").strip()
        return value or default

    def parsed(self, name: str, default: str, doc: str, parse: Callable[[str], T], fallback: T) -> T:
        """The value (or the default) run through `parse`, whose ValueError becomes a configuration
        error; then `fallback` serves."""
        raw = self._raw(name, default, doc)
        return self._parse(name, default if raw is None else raw, parse, fallback)

    def optional(self, name: str, doc: str, parse: Callable[[str], T]) -> T | None:
        """A variable without a default: None when unset, else its value run through `parse`."""
        raw = self._raw(name, None, doc)
        return None if raw is None else self._parse(name, raw, parse, None)

    def _parse(self, name: str, raw: str, parse: Callable[[str], T], fallback: F) -> T | F:
        try:
            return parse(raw)
        except ValueError as exc:
            self.errors.append(f"{name}={_shown(name, raw)}: {exc}")
            return fallback

    def string(self, name: str, default: str, doc: str) -> str:
        raw = self._raw(name, default, doc)
        return default if raw is None else raw

    def required(self, name: str, doc: str, *, when: bool, because: str, fallback: str) -> str:
        """A value that must be set when `when` holds (`because` says why); else `fallback` serves."""
        raw = self._raw(name, None, doc)
        if raw:
            return raw
        if when:
            self.errors.append(f"{name} is required {because}")
        return fallback

    def boolean(self, name: str, default: bool, doc: str) -> bool:
        def parse(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError("expected one of true/false, yes/no, on/off, 1/0")

        return self.parsed(name, str(default).lower(), doc, parse, default)

    def integer(self, name: str, default: int, doc: str, *, minimum: int | None = None) -> int:
        def parse(raw: str) -> int:
            try:
                value = int(raw)
            except ValueError:
                raise ValueError("expected a whole number") from None
            if minimum is not None and value < minimum:
                raise ValueError(f"must be at least {minimum}")
            return value

        return self.parsed(name, str(default), doc, parse, default)

    def number(self, name: str, default: float, doc: str, *, minimum: float = 0.0) -> float:
        def parse(raw: str) -> float:
            try:
                value = float(raw)
            except ValueError:
                raise ValueError("expected a number") from None
            if value < minimum:
                raise ValueError(f"must be at least {minimum}")
            return value

        return self.parsed(name, str(default), doc, parse, default)

    def choice(self, name: str, default: str, doc: str, *, choices: tuple[str, ...]) -> str:
        def parse(raw: str) -> str:
            if raw not in choices:
                raise ValueError(f"expected one of {', '.join(choices)}")
            return raw

        return self.parsed(name, default, doc, parse, default)

    def csv(self, name: str, default: str, doc: str) -> list[str]:
        return self.parsed(
            name, default, doc, lambda raw: [p.strip() for p in raw.split(",") if p.strip()], []
        )

    def rate(self, name: str, default: str, doc: str) -> tuple[int, int]:
        """`N/second`, `N/minute`, `N/hour` or `N/day` (or s, min, h, d): (N, seconds)."""

        def parse(raw: str) -> tuple[int, int]:
            count, _, unit = raw.partition("/")
            seconds = _PERIODS.get(unit.strip().lower())
            if not count.strip().isdigit() or int(count) < 1 or seconds is None:
                raise ValueError("expected N/second, N/minute, N/hour or N/day with N at least 1")
            return int(count), seconds

        return self.parsed(name, default, doc, parse, parse(default))

    def path(self, name: str, default: Path, doc: str, *, base: Path) -> Path:
        return self.parsed(
            name, str(default), doc, lambda raw: (base / Path(raw).expanduser()).resolve(), default
        )

    def url(self, name: str, default: str, doc: str, *, schemes: tuple[str, ...]) -> str:
        return self.parsed(name, default, doc, lambda raw: url_check(raw, schemes), default)

    def check(self) -> None:
        if self.errors:
            lines = "\n".join(f"  - {error}" for error in self.errors)
            raise ConfigurationError(f"invalid configuration (see .env.example for every variable):\n{lines}")


def url_check(raw: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in schemes:
        expected = " or ".join(f"{scheme}://" for scheme in schemes)
        raise ValueError(f"expected a URL starting with {expected}")
    try:
        parts.port  # noqa: B018 - urlsplit validates the port only when it is read
    except ValueError:
        raise ValueError("the port is not a number") from None
    return raw


def database_from_url(url: str) -> dict[str, Any]:
    """Django DATABASES entry for a `postgresql://user:pass@host:port/name?opt=...` URL.

    `host` may also be given as a query parameter (a Unix socket directory), as libpq allows.
    """
    parts = urlsplit(url_check(url, ("postgres", "postgresql")))
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ValueError("the URL names no database: expected postgresql://USER:PASSWORD@HOST:PORT/NAME")
    options = dict(parse_qsl(parts.query))
    host = unquote(parts.hostname or "") or options.pop("host", "")
    # Bounded, so that /readyz reports an unreachable database instead of hanging on it.
    options.setdefault("connect_timeout", "10")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
    }


def load(base_dir: Path) -> Env:
    """The process environment, falling back to `<base_dir>/.env` for anything unset."""
    return Env({**read_dotenv(base_dir / ".env"), **os.environ})
