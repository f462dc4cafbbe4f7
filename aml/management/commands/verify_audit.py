from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aml.models import AuditEvent
from aml.services.audit import audit_verify, checkpoints, last_good_checkpoint


class Command(BaseCommand):
    help = (
        "Check the audit trail: its hash chain, each event's MAC under the audit key, and the signed "
        "checkpoints kept outside the database. Exits 1, listing each problem, when an event was "
        "edited, deleted, reordered or forged, or the trail was cut or rewritten since a checkpoint."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        last = AuditEvent.objects.order_by("-sequence").first()
        # Up to the last event seen here: events appended meanwhile are for the next run.
        through = last.sequence if last else 0
        problems = audit_verify(through=through)
        kept = len(checkpoints())
        if problems:
            for problem in problems:
                self.stdout.write(f"#{problem.sequence} {problem.kind}: {problem.detail}")
            if kept:
                good = last_good_checkpoint()
                after = good.sequence + 1 if good else 1
                self.stdout.write(
                    f"last good checkpoint: {f'event #{good.sequence} at {good.at}' if good else 'none'}; "
                    f"events from #{after} on cannot be vouched for"
                )
            raise CommandError(f"audit trail broken: {len(problems)} problem(s) up to event #{through}")
        if last is None:
            self.stdout.write("audit trail intact: 0 events")
            return
        self.stdout.write(
            f"audit trail intact: {last.sequence} events, last hash {last.hash}"
            + (f", {kept} checkpoint(s) agree" if kept else "")
        )
