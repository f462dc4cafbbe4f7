from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.integrations.keys import SCOPES, api_key_issue
from assistant.integrations.models import System


class Command(BaseCommand):
    help = "Issue an API key for an integrating system (created if new) and print it: it is shown only once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("system", help="the system's name (a slug), e.g. claims-core")
        parser.add_argument("--name", default="issued on the command line", help="what the key is for")
        parser.add_argument(
            "--scopes", default=",".join(SCOPES), help=f"comma-separated, of: {', '.join(SCOPES)}"
        )

    def handle(self, *args: Any, system: str, name: str, scopes: str, **options: Any) -> None:
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        unknown = sorted(set(wanted) - set(SCOPES))
        if not wanted or unknown:
            raise CommandError(f"--scopes: unknown {unknown or 'none given'}; scopes are {', '.join(SCOPES)}")
        target, created = System.objects.get_or_create(name=system)
        _, text = api_key_issue(system=target, name=name, scopes=wanted)
        self.stdout.write(
            f"{'Created system' if created else 'System'} {target.name}; API key ({', '.join(wanted)}):"
        )
        self.stdout.write(text)
