"""Rule settings: every change audited, so each alert can be traced to the settings that raised it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from aml.dispatch import calibrate_later
from aml.models import Rule
from aml.rules import rule_parameters_errors
from aml.services.audit import audit_record
from assistant.core.errors import ApplicationError, FieldErrors


@transaction.atomic
def rule_update(
    rule: Rule,
    *,
    actor: str,
    enabled: bool,
    parameters: dict[str, Any],
    weight: float | None = None,
) -> Rule:
    """Switch a rule, change its thresholds or weight (None keeps it), and record the old and new
    values in the audit trail, so that every alert can be traced to the settings that raised it."""
    errors = rule_parameters_errors(rule.code, parameters)
    if errors:
        raise FieldErrors({"parameters": errors})
    if weight is not None and weight < 0:
        raise ApplicationError(f"a rule's weight cannot be negative, not {weight}", field="weight")
    stored = Rule.objects.select_for_update().get(pk=rule.pk)
    weight = stored.weight if weight is None else weight
    old = {"enabled": stored.enabled, "parameters": stored.parameters, "weight": stored.weight}
    new = {"enabled": enabled, "parameters": parameters, "weight": weight}
    rule.enabled, rule.parameters, rule.weight = enabled, parameters, weight
    if new == old:
        return rule
    rule.save(update_fields=["enabled", "parameters", "weight", "updated_at"])
    calibrate_later()
    audit_record(
        actor=actor,
        action="rule.changed",
        subject=f"rule:{rule.code}",
        payload={"reason_code": rule.reason_code, "old": old, "new": new},
    )
    return rule
