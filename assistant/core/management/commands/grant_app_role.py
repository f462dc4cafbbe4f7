from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from assistant.core.errors import ApplicationError
from assistant.db.privileges import app_role_grant


class Command(BaseCommand):
    help = (
        "Grant the application's database role what the application needs, and nothing more: read and "
        "write rows, only read and append to the audit trail, no DDL. Run it as the tables' owner "
        "after each `migrate` (the migrate job does); the role must exist (docs/deploy.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role web, workers and beat connect as, e.g. finassist_app")

    def handle(self, *args: Any, role: str, **options: Any) -> None:
        try:
            grants = app_role_grant(role=role)
        except ApplicationError as refused:
            raise CommandError(refused.message) from refused
        self.stdout.write(
            f"{grants.role} may read and write the rows of {grants.tables} tables of schema {grants.schema} "
            f"(owned by {grants.owner}); only read and append to {', '.join(grants.append_only)}"
        )
        if grants.creates_in_schema:
            self.stderr.write(
                f"warning: {grants.role} may still create tables in schema {grants.schema}, as PUBLIC may "
                f"before PostgreSQL 15: REVOKE CREATE ON SCHEMA {grants.schema} FROM PUBLIC"
            )
        if "EMBEDDED_DATA_DIR" in connection.settings_dict:
            self.stdout.write(
                "note: the application itself connects to the embedded database as its superuser; "
                f"these grants bind what connects as {grants.role}"
            )
