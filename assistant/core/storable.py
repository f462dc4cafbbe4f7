"""What the application can store and compute with, checked in one place for every way data comes
in (the API's JSON, form posts and query strings, uploads): text without NUL characters or lone
surrogates (PostgreSQL cannot store the one, UTF-8 cannot encode the other), JSON nested at most
`MAX_DEPTH` deep, and dates within the years a bank's records fall in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which cannot be stored"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (half of a UTF-16 pair), which is not text"
    return None


def date_problem(value: date | datetime) -> str | None:
    """Why a date is outside the domain's range, or None."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        return f"must be from {EARLIEST.isoformat()} to {LATEST.isoformat()}"
    return None


class TooDeep(ValueError):
    pass


def problems(data: Any) -> dict[str, str]:
    """Each place in parsed JSON (`field.sub[2]`) whose key or text cannot be stored, with why.

    Walks without recursion; raises TooDeep where the data nests more than MAX_DEPTH deep."""
    found: dict[str, str] = {}
    for path, text in _texts(data):
        if path not in found and (problem := text_problem(text)):
            found[path or "non_field_errors"] = problem
    return found


def _texts(data: Any) -> Iterator[tuple[str, str]]:
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(f"JSON nested more than {MAX_DEPTH} deep")
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and text_problem(key):
                    yield (path or "non_field_errors"), key
                stack.append((inner, item, depth + 1))
        elif isinstance(value, list):
            stack += [(f"{path}[{i}]", item, depth + 1) for i, item in enumerate(value)]
