"""One partition of the chunk table per collection.

A search names the collections it may read; PostgreSQL prunes the other partitions, so
each search walks only the HNSW graphs of those collections, and a collection-scoped
search is as exact and as fast as an unfiltered one over a table of that size. Deleting a
collection drops its partition (in the same transaction) instead of deleting its rows.

Partitions follow collections through the model's signals, so that every way of making
a collection (services, admin, fixtures) gets one; a chunk of a collection without its
own partition still lands in the default partition. They are made and dropped by two
functions that run as the chunk table's owner (migration 0007_partition_functions):
making a partition takes owning the table, which the application's database role does not.
"""

from typing import Any

from django.db import connection

from assistant.knowledge.models import Collection


def partition_name(collection_id: int) -> str:
    """The name the partition functions give a collection's partition."""
    return f"knowledge_chunk_c{int(collection_id)}"


def partition_create(collection_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT knowledge_partition_create(%s)", [int(collection_id)])


def partition_drop(collection_id: int) -> None:
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of rows changed earlier in the transaction must run
        # first: a table with pending trigger events cannot be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SELECT knowledge_partition_drop(%s)", [int(collection_id)])


def on_collection_saved(sender: type[Collection], instance: Collection, created: bool, **kwargs: Any) -> None:
    if created:
        partition_create(instance.pk)


def on_collection_deleting(sender: type[Collection], instance: Collection, **kwargs: Any) -> None:
    # Before Django deletes the collection's rows: dropping the table makes those deletes empty.
    partition_drop(instance.pk)
