"""Identifiers out of logs and remote prompts.

A `Masker` replaces the identifiers it is told about (a client's name, client number,
account numbers) and those that look like identifiers anywhere (e-mail addresses, IBANs,
long account or card numbers, phone numbers) by placeholders such as `[NAME-1]`, and puts
them back in what comes back. `MaskingFilter` applies the pattern half to every log record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import partial

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("IBAN", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")),
    ("ACCOUNT", re.compile(r"\b\d{8,19}\b|\b\d{2,6}(?:-\d{2,8}){2,4}\b")),
    ("PHONE", re.compile(r"\+\d{1,3}[ (]*\d[\d ()-]{6,}\d")),
)
_PLACEHOLDER = re.compile(r"\[(?:NAME|CLIENT|EMAIL|IBAN|ACCOUNT|PHONE)-\d+\]")


class Masker:
    def __init__(self, identifiers: Iterable[tuple[str, str]] = ()) -> None:
        """`identifiers`: (kind, value) pairs, such as ("NAME", "Maria Keller")."""
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        known = sorted(
            {(kind, value.strip()) for kind, value in identifiers if value.strip()}, key=lambda i: -len(i[1])
        )
        self._known = [
            (kind, value, re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE))
            for kind, value in known
        ]

    def _placeholder(self, kind: str, value: str) -> str:
        key = value.casefold()
        if key not in self._by_value:
            count = sum(1 for p in self._by_placeholder if p.startswith(f"[{kind}-")) + 1
            placeholder = f"[{kind}-{count}]"
            self._by_value[key] = placeholder
            self._by_placeholder[placeholder] = value
        return self._by_value[key]

    def mask(self, text: str) -> str:
        for kind, pattern in PATTERNS:
            text = pattern.sub(partial(self._found, kind), text)
        for kind, value, pattern in self._known:
            text = pattern.sub(partial(self._known_value, kind, value), text)
        return text

    def _found(self, kind: str, match: re.Match[str]) -> str:
        return self._placeholder(kind, match.group())

    def _known_value(self, kind: str, value: str, _match: re.Match[str]) -> str:
        """A known identifier's placeholder, by its recorded spelling whatever the case it has here."""
        return self._placeholder(kind, value)

    def unmask(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m.group(), m.group()), text)

    def unmask_stream(self, pieces: Iterable[str]) -> Iterable[str]:
        """`unmask` over streamed text, holding back a placeholder split across pieces."""
        pending = ""
        for piece in pieces:
            pending += piece
            cut = pending.rfind("[")
            if cut == -1 or "]" in pending[cut:] or len(pending) - cut > 16:
                cut = len(pending)
            ready, pending = pending[:cut], pending[cut:]
            if ready:
                yield self.unmask(ready)
        if pending:
            yield self.unmask(pending)


class MaskingFilter(logging.Filter):
    """Masks identifier-shaped text in every log message that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = Masker().mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
