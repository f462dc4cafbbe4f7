"""Claims in: stored all or none, their triage queued; claims left waiting sent again."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from assistant.core.errors import ApplicationError, FieldErrors
from assistant.db.constraints import violated_constraint
from assistant.integrations.models import System
from claims.dispatch import triage_later
from claims.models import (
    Claim,
    Policy,
)

logger = logging.getLogger("finassist.claims")


def claims_submit(*, system: System, items: list[dict[str, Any]], batch: bool) -> list[Claim]:
    """Store claims (all or none) and queue their triage once stored.

    `items` have passed the API's field checks; here the checks that need the database:
    the policy exists, the external id is new for the system. A batch's errors are keyed by index.
    """
    policies = Policy.objects.in_bulk([item["policy_number"] for item in items], field_name="number")
    taken = set(
        Claim.objects.filter(system=system, external_id__in=[i["external_id"] for i in items]).values_list(
            "external_id", flat=True
        )
    )
    errors: dict[str, Any] = {}
    conflict = False
    seen: set[str] = set()
    for index, item in enumerate(items):
        problems: dict[str, list[str]] = {}
        if item["policy_number"] not in policies:
            problems["policy_number"] = [f"no policy with the number {item['policy_number']!r}"]
        if item["external_id"] in taken:
            conflict = True
            problems["external_id"] = [
                f"a claim with the external id {item['external_id']!r} was already submitted"
            ]
        elif item["external_id"] in seen:
            problems["external_id"] = [f"the external id {item['external_id']!r} appears twice in this batch"]
        seen.add(item["external_id"])
        if problems:
            errors[str(index)] = problems
    if errors:
        status = 409 if conflict else 400
        raise FieldErrors({"claims": errors} if batch else errors["0"], status=status)
    try:
        claims = Claim.objects.bulk_create(
            Claim(
                system=system,
                policy=policies[item["policy_number"]],
                **{k: v for k, v in item.items() if k != "policy_number"},
            )
            for item in items
        )
    except IntegrityError as error:
        if violated_constraint(error) != "claim_external_id_unique":
            raise
        raise ApplicationError(
            "a claim with one of these external ids was submitted at the same moment", field="external_id"
        ) from None
    for claim in claims:
        triage_later(claim.pk)
    return claims


def claims_requeue_stale(*, older_than_s: float | None = None) -> int:
    """Send triage again for claims waiting longer than CLAIMS_REQUEUE_AFTER_S (a lost message, a
    killed worker); triage of a claim already triaged does nothing, so a duplicate is harmless."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.CLAIMS_REQUEUE_AFTER_S if older_than_s is None else older_than_s
    )
    waiting = Claim.objects.filter(
        status__in=[Claim.Status.QUEUED, Claim.Status.PROCESSING], created_at__lte=cutoff
    ).exclude(started_at__gt=cutoff)
    ids = list(waiting.values_list("pk", flat=True)[:1000])
    for pk in ids:
        triage_later(pk)
    if ids:
        logger.warning("re-sent triage of %d waiting claim(s)", len(ids))
    return len(ids)
