from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from assistant.core.demo import demo_users_create
from assistant.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create or reset the demo users (one per role) and print how to log in."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            logins = demo_users_create(password=settings.DEMO_PASSWORD)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.MIGRATE_HEADING("Demo logins (web UI and admin at /admin/):"))
        for login in logins:
            role = "superuser" if login.persona.superuser else login.persona.role
            self.stdout.write(f"  {login.persona.username:<10} {settings.DEMO_PASSWORD:<16} {role}")
        for login in logins:
            if login.token:
                self.stdout.write(
                    f"API token of {login.persona.username}: {login.token}\n"
                    f'  curl -H "Authorization: Token {login.token}" http://localhost:8000/api/schema/'
                )
