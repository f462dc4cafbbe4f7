"""What the application's database role may do, granted by the schema's owner after `migrate`.

In production two roles reach the database (docs/deploy.md, "Database roles"): the owner, which
runs the migrations and so owns every table, and the application's role, which every other
service connects as. The application's role owns nothing, so it cannot change the schema, nor
disable a trigger; it reads and writes rows, and the tables of models that declare
`append_only = True` (the AML audit trail) it may only read and append to: no UPDATE, DELETE or
TRUNCATE, whatever the trigger on them does. The one DDL it needs at run time, a collection's
chunk partition, it makes through functions that run as the owner (assistant.knowledge.partitions).

`app_role_grant` makes the role's privileges exactly that, from whatever they were: it can run
after every `migrate` (the migrate job does), and the tables a migration adds are the role's
from their creation on, by the owner's default privileges.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from psycopg import sql

from assistant.core.errors import ApplicationError

ROWS = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
APPEND = sql.SQL("SELECT, INSERT")


@dataclass(frozen=True)
class AppRoleGrants:
    role: str
    owner: str
    schema: str
    tables: int
    append_only: list[str]
    # Before PostgreSQL 15 every role may create tables in the public schema, unless revoked there.
    creates_in_schema: bool


def append_only_tables() -> list[str]:
    """The tables of the models that declare `append_only = True`."""
    return sorted(model._meta.db_table for model in apps.get_models() if getattr(model, "append_only", False))


def app_role_grant(*, role: str) -> AppRoleGrants:
    """Grant `role` what the application needs in the current schema, and nothing more; run as the
    owner of the tables (the role that ran `migrate`). One transaction: other sessions see the
    role's old privileges or its new ones, never a mix."""
    with transaction.atomic(), connection.cursor() as cursor:
        owner, schema, database = _grantable(cursor, role)

        def execute(template: str, **names: sql.Composable) -> None:
            cursor.execute(
                sql.SQL(template).format(role=sql.Identifier(role), schema=sql.Identifier(schema), **names)
            )

        execute(
            "GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}", database=sql.Identifier(database)
        )
        execute("GRANT USAGE ON SCHEMA {schema} TO {role}")
        execute("REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
        execute("GRANT {rows} ON ALL TABLES IN SCHEMA {schema} TO {role}", rows=ROWS)
        execute("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
        # The tables and sequences that later migrations add, from their creation on.
        execute("ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {rows} ON TABLES TO {role}", rows=ROWS)
        execute("ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {role}")
        append_only = append_only_tables()
        for table in append_only:
            execute("REVOKE ALL ON {table} FROM {role}", table=sql.Identifier(table))
            execute("GRANT {append} ON {table} TO {role}", append=APPEND, table=sql.Identifier(table))
        # The functions that run as the owner for the application (the partition functions); the
        # others are everyone's to call, or triggers'.
        cursor.execute(
            "SELECT oid::regprocedure::text FROM pg_proc WHERE prosecdef "
            "AND pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = %s) "
            "AND proowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
            [schema, owner],
        )
        for (function,) in cursor.fetchall():
            execute("GRANT EXECUTE ON FUNCTION {function} TO {role}", function=sql.SQL(function))

        cursor.execute(
            "SELECT count(*) FILTER (WHERE has_table_privilege(%s, format('%%I.%%I', schemaname, tablename), "
            "'INSERT')), has_schema_privilege(%s, %s, 'CREATE') FROM pg_tables WHERE schemaname = %s",
            [role, role, schema, schema],
        )
        tables, creates = cursor.fetchone()
    return AppRoleGrants(role, owner, schema, tables, append_only, creates)


def _grantable(cursor: CursorWrapper, role: str) -> tuple[str, str, str]:
    """(owner, schema, database) when this connection may grant `role` the application's
    privileges; else an ApplicationError that says what is wrong."""
    cursor.execute(
        "SELECT current_user, current_schema(), current_database(), "
        "(SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename = 'django_migrations')"
    )
    user, schema, database, owner = cursor.fetchone()
    if owner is None:
        raise ApplicationError(f"no migrations in schema {schema} of {database}: run `migrate` first")
    cursor.execute("SELECT pg_has_role(%s, 'USAGE')", [owner])
    if not cursor.fetchone()[0]:
        raise ApplicationError(
            f"connected as {user}, but the tables belong to {owner}: grant as the owner "
            "(the DATABASE_URL that `migrate` runs with)"
        )
    cursor.execute(
        "SELECT rolsuper, pg_has_role(rolname, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s", [owner, role]
    )
    found = cursor.fetchone()
    if found is None:
        raise ApplicationError(
            f"role {role} does not exist: create it first (CREATE ROLE {role} LOGIN PASSWORD '...'), "
            "as docs/deploy.md shows"
        )
    superuser, owners = found
    if superuser:
        raise ApplicationError(
            f"role {role} is a superuser, which no privilege binds: the application needs a role "
            "without SUPERUSER"
        )
    if owners:
        raise ApplicationError(
            f"role {role} is {owner}, the tables' owner, or a member of it: it could disable the audit "
            "trail's trigger; the application needs a role of its own"
        )
    cursor.execute("SELECT t FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NULL", [append_only_tables()])
    missing = [row[0] for row in cursor.fetchall()]
    if missing:
        raise ApplicationError(f"{', '.join(missing)} not in schema {schema}: run `migrate` first")
    return owner, schema, database
