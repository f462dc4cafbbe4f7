"""The application's database role (manage.py grant_app_role): it reads and writes rows, makes its
collections' partitions, appends to the audit trail, and can do nothing else to the trail nor the
schema. Proved on the embedded server by a login role of each test's own (roles are cluster-wide:
each is dropped afterwards, or lives only in the test's transaction)."""

import io
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import errors, sql

from aml.services.audit import audit_record, audit_verify
from assistant.db.embedded import SUPERUSER
from assistant.db.urls import database_url
from assistant.knowledge.partitions import partition_name
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.submission import collection_get_or_create

AUDIT = "aml_auditevent"
TRIGGER = "aml_auditevent_append_only"


def run(statement: str, *identifiers: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL(statement).format(*map(sql.Identifier, identifiers)))


def grant(role: str) -> str:
    out = io.StringIO()
    call_command("grant_app_role", role, stdout=out)
    return out.getvalue()


def has(privilege: str, role: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
        return cursor.fetchone()[0]


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    """Django's own connection with the role's privileges, as if it had logged in as the role."""
    run("SET ROLE {}", role)
    try:
        yield
    finally:
        run("RESET ROLE")


def new_role() -> str:
    """A login role of a name no other test (nor xdist worker) uses."""
    role = f"finassist_app_test_{uuid.uuid4().hex[:8]}"
    run("CREATE ROLE {} LOGIN", role)
    return role


@pytest.fixture
def app_role(transactional_db) -> Iterator[str]:
    """A committed login role with the application's grants, as other connections see it."""
    role = new_role()
    try:
        grant(role)
        yield role
    finally:
        run("RESET ROLE")
        run("DROP OWNED BY {}", role)  # its privileges and default privileges in this database
        run("DROP ROLE {}", role)


@pytest.fixture
def as_app(app_role: str) -> Iterator[psycopg.Connection]:
    """A connection logged in as the application's role."""
    with psycopg.connect(database_url(connection.settings_dict), user=app_role, autocommit=True) as conn:
        yield conn


def refused(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(errors.InsufficientPrivilege) as raised:
        conn.execute(statement)
    return str(raised.value)


def test_the_application_role_reads_and_writes_rows_and_its_own_temporary_tables(as_app):
    assert as_app.execute("SELECT current_user").fetchone()[0].startswith("finassist_app_test_")
    as_app.execute(
        "INSERT INTO finassist_cache (cache_key, value, expires) VALUES ('k', 'v', now() + interval '1 hour')"
    )
    as_app.execute("UPDATE finassist_cache SET value = 'w' WHERE cache_key = 'k'")
    assert as_app.execute("SELECT value FROM finassist_cache WHERE cache_key = 'k'").fetchone() == ("w",)
    as_app.execute("DELETE FROM finassist_cache WHERE cache_key = 'k'")
    as_app.execute(
        "INSERT INTO knowledge_collection (name, description, embedding_model, created_at, updated_at) "
        "VALUES ('raw', '', 'm', now(), now())"
    )
    assert as_app.execute("SELECT name FROM knowledge_collection").fetchall() == [("raw",)]
    # Re-embedding stages its vectors in a temporary table.
    as_app.execute("CREATE TEMPORARY TABLE staging (i int)")
    as_app.execute("TRUNCATE staging")


def test_the_application_role_appends_to_the_audit_trail_and_nothing_more(as_app):
    as_app.execute(
        f"INSERT INTO {AUDIT} (sequence, occurred_at, actor, action, subject, payload, previous_hash, "
        "hash, mac) VALUES (1, now(), 'system', 'test.appended', 'test:1', '{}', repeat('0', 64), "
        "repeat('a', 64), '')"
    )
    assert as_app.execute(f"SELECT count(*) FROM {AUDIT}").fetchone() == (1,)

    for statement in (f"UPDATE {AUDIT} SET actor = 'mallory'", f"DELETE FROM {AUDIT}", f"TRUNCATE {AUDIT}"):
        assert f"permission denied for table {AUDIT}" in refused(as_app, statement)
    for statement in (f"ALTER TABLE {AUDIT} DISABLE TRIGGER {TRIGGER}", f"DROP TRIGGER {TRIGGER} ON {AUDIT}"):
        assert re.search(f"must be owner of (table|relation) {AUDIT}", refused(as_app, statement))
    # Replica mode would skip the trigger for the session: only a superuser may set it.
    assert "session_replication_role" in refused(as_app, "SET session_replication_role = replica")
    assert "permission denied for schema" in refused(as_app, "CREATE TABLE mine (i int)")
    assert "must be owner" in refused(as_app, "ALTER TABLE knowledge_chunk ADD COLUMN mine int")
    assert as_app.execute(f"SELECT count(*) FROM {AUDIT}").fetchone() == (1,)


def test_the_application_works_as_its_role_partitions_search_audit_and_cache(app_role, index_files):
    with acting_as(app_role):
        collection = collection_get_or_create(name="handbook")
        index_files(collection, [("a.md", b"# Limits\n\nDaily transfer limits are 10,000.")])
        found = knowledge_search(
            reader=Reader.system(), request=SearchRequest(query="transfer limits", collections=["handbook"])
        )
        audit_record(actor="system", action="test.recorded", subject="test:1", payload={"n": 1})
        cache.set("throttle", 3)
        assert cache.get("throttle") == 3
        partition = partition_name(collection.pk)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s", [partition])
            owner = cursor.fetchone()[0]
        collection.delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [partition])
            dropped = cursor.fetchone()[0] is None

    assert found.results[0].heading.startswith("Limits")
    assert owner == SUPERUSER  # the owner of the chunk table, as the migrations that alter it need
    assert dropped
    assert audit_verify() == []


@pytest.mark.django_db
def test_granting_again_takes_back_what_the_role_should_not_have_and_new_tables_follow():
    role = new_role()  # gone with the test's transaction, like everything below
    run("GRANT ALL ON {} TO {}", AUDIT, role)
    run("GRANT TRUNCATE ON {} TO {}", "knowledge_collection", role)

    said = grant(role)
    grant(role)
    run("CREATE TABLE {} (i int)", "made_by_a_later_migration")

    assert f"only read and append to {AUDIT}" in said
    privileges = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "TRIGGER")
    assert [has(p, role, AUDIT) for p in privileges] == [True, True, False, False, False, False]
    assert not has("TRUNCATE", role, "knowledge_collection")
    assert has("DELETE", role, "knowledge_collection")
    assert has("UPDATE", role, "made_by_a_later_migration")


@pytest.mark.django_db
def test_granting_refuses_a_role_that_does_not_exist():
    with pytest.raises(CommandError, match="role finassist_nobody does not exist: create it first"):
        grant("finassist_nobody")


@pytest.mark.django_db
def test_granting_refuses_a_superuser_and_the_owner_or_its_members_who_could_rewrite_the_trail():
    member = new_role()
    run(f"GRANT {SUPERUSER} TO {{}}", member)

    with pytest.raises(CommandError, match=f"role {SUPERUSER} is a superuser, which no privilege binds"):
        grant(SUPERUSER)
    with pytest.raises(CommandError, match=f"role {member} is {SUPERUSER}, the tables' owner, or a member"):
        grant(member)


@pytest.mark.django_db
def test_granting_refuses_to_run_as_anyone_but_the_tables_owner():
    other = new_role()

    with (
        acting_as(other),
        pytest.raises(CommandError, match=f"connected as {other}, but the tables belong to {SUPERUSER}"),
    ):
        grant(other)
