"""psycopg's own connection under Django's, for what Django's cursors do not do: binding on
the server, COPY, and pgvector's types in binary."""

from __future__ import annotations

import psycopg
from django.db import connection


def vector_connection() -> psycopg.Connection:
    """The default database's psycopg connection, open, with pgvector's types registered."""
    from pgvector.psycopg import register_vector

    connection.ensure_connection()
    raw = connection.connection
    if not getattr(raw, "finassist_vector_registered", False):
        register_vector(raw)
        raw.finassist_vector_registered = True
    return raw
