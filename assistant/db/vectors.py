"""psycopg's own connection under Django's, for what Django's cursors do not do: binding on
the server, COPY, and pgvector's types in binary."""

from __future__ import annotations

from typing import Any
from weakref import WeakSet

import psycopg
from django.db import connection

# The connections pgvector's types are registered on (each new one once).
_registered: WeakSet[psycopg.Connection[Any]] = WeakSet()


def vector_connection() -> psycopg.Connection[Any]:
    """The default database's psycopg connection, open, with pgvector's types registered."""
    from pgvector.psycopg import register_vector

    connection.ensure_connection()
    raw: psycopg.Connection[Any] = connection.connection
    if raw not in _registered:
        register_vector(raw)
        _registered.add(raw)
    return raw
