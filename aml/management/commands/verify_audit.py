from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aml.models import AuditEvent
from aml.services.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Check the audit trail's hash chain. Exits 1, listing each problem, when an event was edited, "
        "deleted, reordered or forged; keep the last hash it prints to catch a rewritten tail."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        last = AuditEvent.objects.order_by("-sequence").first()
        if last is None:
            self.stdout.write("audit trail intact: 0 events")
            return
        # Up to the last event seen here: events appended meanwhile are for the next run.
        problems = audit_verify(through=last.sequence)
        if problems:
            for problem in problems:
                self.stdout.write(f"#{problem.sequence} {problem.kind}: {problem.detail}")
            raise CommandError(f"audit trail broken: {len(problems)} problem(s) up to event #{last.sequence}")
        self.stdout.write(f"audit trail intact: {last.sequence} events, last hash {last.hash}")
