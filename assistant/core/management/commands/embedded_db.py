from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.db.embedded import EmbeddedPostgres
from assistant.db.urls import database_url


class Command(BaseCommand):
    help = "Status, start or stop of the embedded PostgreSQL server (used when DATABASE_URL is unset)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("status", "start", "stop", "uri"))

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        database = settings.DATABASES["default"]
        if "EMBEDDED_DATA_DIR" not in database:
            raise CommandError("DATABASE_URL is set: this process does not use the embedded server")
        server = EmbeddedPostgres.from_settings(database)
        if action == "start":
            server.ensure_running()
        if action == "stop":
            stopped = server.stop()
            self.stdout.write("stopped" if stopped else "not running")
            return
        if action == "uri":
            self.stdout.write(database_url(database))
            return
        status = server.status()
        state = f"running (pid {status.pid})" if status.running else "stopped"
        self.stdout.write(f"embedded PostgreSQL in {server.pgdata}: {state}")
