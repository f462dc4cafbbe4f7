"""What the rule codes a page shows mean: each code's rule, what it looks for, and its settings now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from aml.selectors import rules_of


@dataclass(frozen=True)
class RuleCode:
    code: str
    name: str
    description: str
    settings: str  # its thresholds now, e.g. "min_count 3 · window_days 7"
    status: str  # "" for a rule in use, else why it is not

    @property
    def title(self) -> str:
        return f"{self.code} {self.name}: {self.description}"


def _setting(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,g}"
    return str(value)


def hit_codes(hits: object) -> dict[str, str]:
    """The reason codes of stored rule hits, in order, each with the rule's name as the hit recorded it."""
    codes: dict[str, str] = {}
    for hit in hits if isinstance(hits, list) else []:
        if isinstance(hit, dict) and (code := str(hit.get("reason_code", ""))):
            codes.setdefault(code, str(hit.get("name") or hit.get("code") or ""))
    return codes


def rule_legend(codes: Iterable[str], *, names: Mapping[str, str] | None = None) -> dict[str, RuleCode]:
    """Each code with its meaning, in code order; a code whose rule is gone keeps the name its hits
    recorded (`names`)."""
    wanted = sorted(set(codes))
    rules = rules_of(wanted)
    legend = {}
    for code in wanted:
        rule = rules.get(code)
        if rule is None:
            name = (names or {}).get(code) or _("unknown rule")
            legend[code] = RuleCode(code, name, _("a rule no longer configured"), "", _("removed since"))
            continue
        parameters = rule.parameters if isinstance(rule.parameters, dict) else {}
        settings = " · ".join(f"{name} {_setting(value)}" for name, value in parameters.items())
        legend[code] = RuleCode(
            code, rule.name, rule.description, settings, "" if rule.enabled else _("switched off now")
        )
    return legend
