"""Claims in: stored all or none, their triage queued; claims left waiting sent again."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from assistant.core.dispatch import resend_stale
from assistant.core.errors import Conflict, ItemErrors
from assistant.db.constraints import violated_constraint
from assistant.integrations.models import System
from claims.dispatch import triage_later
from claims.models import (
    Claim,
    Policy,
)

logger = logging.getLogger("finassist.claims")


@dataclass(frozen=True)
class Attachment:
    """A file the claims system keeps: its name, type and where it is."""

    name: str
    content_type: str
    url: str


@dataclass(frozen=True)
class ClaimInput:
    """A claim as a claims system submits it, its fields of the right types and formats (the API
    checks those); `claims_submit` checks the rest."""

    external_id: str
    policy_number: str
    loss_date: date
    amount_claimed: Decimal
    currency: str
    description: str
    reported_date: date | None = None  # today when not given
    attachments: tuple[Attachment, ...] = ()


def claims_submit(*, system: System, items: Sequence[ClaimInput], batch: bool) -> list[Claim]:
    """Store claims (all or none) and queue their triage once stored.

    Refused, with a message per field (a batch's keyed by index): a loss or report date in the
    future, a report before the loss, a policy that does not exist, an external id the system used
    already (409) or twice in the batch.
    """
    today = timezone.localdate()
    policies = Policy.objects.in_bulk([item.policy_number for item in items], field_name="number")
    taken = _taken(system, [item.external_id for item in items])
    errors = ItemErrors("claims", batch)
    seen: set[str] = set()
    for index, item in enumerate(items):
        reported = item.reported_date or today
        if item.loss_date > today:
            errors.add(index, "loss_date", "the loss date is in the future")
        if reported > today:
            errors.add(index, "reported_date", "the reported date is in the future")
        elif reported < item.loss_date:
            errors.add(index, "reported_date", "the claim cannot be reported before the loss")
        if item.policy_number not in policies:
            errors.add(index, "policy_number", f"no policy with the number {item.policy_number!r}")
        if item.external_id in taken:
            message = f"a claim with the external id {item.external_id!r} was already submitted"
            errors.add(index, "external_id", message, conflict=True)
        elif item.external_id in seen:
            errors.add(
                index, "external_id", f"the external id {item.external_id!r} appears twice in this batch"
            )
        seen.add(item.external_id)
    errors.raise_any()
    try:
        claims = Claim.objects.bulk_create(
            Claim(
                system=system,
                policy=policies[item.policy_number],
                external_id=item.external_id,
                loss_date=item.loss_date,
                reported_date=item.reported_date or today,
                amount_claimed=item.amount_claimed,
                currency=item.currency,
                description=item.description,
                attachments=[asdict(attachment) for attachment in item.attachments],
            )
            for item in items
        )
    except IntegrityError as error:
        if violated_constraint(error) != "claim_external_id_unique":
            raise
        raise Conflict(
            "a claim with one of these external ids was submitted at the same moment", field="external_id"
        ) from None
    for claim in claims:
        triage_later(claim.pk)
    return claims


def _taken(system: System, external_ids: list[str]) -> set[str]:
    """The external ids the system has used already."""
    found = Claim.objects.filter(system=system, external_id__in=external_ids)
    return set(found.values_list("external_id", flat=True))


def claims_requeue_stale(*, older_than_s: float | None = None) -> int:
    """Send triage again for claims waiting longer than CLAIMS_REQUEUE_AFTER_S (a lost message, a
    killed worker); triage of a claim already triaged does nothing, so a duplicate is harmless."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.CLAIMS_REQUEUE_AFTER_S if older_than_s is None else older_than_s
    )
    waiting = Claim.objects.filter(
        status__in=[Claim.Status.QUEUED, Claim.Status.PROCESSING], created_at__lte=cutoff
    ).exclude(started_at__gt=cutoff)
    return resend_stale(waiting, triage_later, logger=logger, message="re-sent triage of %d waiting claim(s)")
