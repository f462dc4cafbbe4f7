import pytest
from django.db import connection

from assistant.knowledge.models import Chunk, Collection, Document
from assistant.knowledge.partitions import partition_name
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search
from assistant.knowledge.services.submission import collection_get_or_create

pytestmark = pytest.mark.django_db


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'knowledge_chunk'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def test_each_collection_keeps_its_chunks_in_its_own_partition(index_files):
    collection = collection_get_or_create(name="handbook")
    index_files(collection, [("a.md", b"# A\n\nAlpha text.")])

    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM knowledge_chunk")
        (where,) = cursor.fetchone()
    assert where == partition_name(collection.pk)
    assert partition_name(collection.pk) in partitions()


def test_deleting_a_collection_drops_its_partition_and_its_documents(index_files):
    collection = collection_get_or_create(name="handbook")
    index_files(collection, [("a.md", b"# A\n\nAlpha text.")])
    partition = partition_name(collection.pk)

    collection.delete()

    assert partition not in partitions()
    assert not Document.objects.exists()
    assert not Chunk.objects.exists()


def test_a_search_in_one_collection_reads_only_its_partition(index_files):
    kept, other = collection_get_or_create(name="kept"), collection_get_or_create(name="other")
    for collection in (kept, other):
        index_files(collection, [("a.md", b"# A\n\nAlpha text.")])

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM knowledge_chunk WHERE collection_id = ANY(%s) "
            "ORDER BY embedding <=> %s LIMIT 5",
            [[kept.pk], "[" + ",".join(["0.1"] * 384) + "]"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert partition_name(kept.pk) in plan
    assert partition_name(other.pk) not in plan
    assert "knowledge_chunk_default" not in plan


def test_the_prepared_search_statement_walks_only_the_partitions_of_the_collections_searched(index_files):
    kept, other = collection_get_or_create(name="kept"), collection_get_or_create(name="other")
    for collection in (kept, other):
        index_files(collection, [("a.md", b"# A\n\nAlpha text about transfer limits.")])
    connection.ensure_connection()
    plans: list[str] = []
    connection.connection.add_notice_handler(lambda notice: plans.append(notice.message_primary))
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        cursor.execute("SET auto_explain.log_min_duration = 0")
        cursor.execute("SET auto_explain.log_level = notice")

    for _ in range(3):  # the plan is made once, for any collection
        for name in ("other", "kept"):
            knowledge_search(
                reader=Reader.system(), request=SearchRequest(query="transfer limits", collections=[name])
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # a statement's plan arrives once its portal is closed: here

    plan = [text for text in plans if "knowledge_chunk" in text][-1]
    assert partition_name(kept.pk) in plan
    assert partition_name(other.pk) not in plan
    assert "Subplans Removed" in plan


def test_a_collection_made_without_the_orm_signal_still_stores_chunks_in_the_default_partition():
    collection = Collection.objects.bulk_create([Collection(name="raw", embedding_model="all-MiniLM-L6-v2")])[
        0
    ]
    document = Document.objects.create(collection=collection, external_id="x", title="x", checksum="x")

    Chunk.objects.create(
        document=document, collection=collection, position=0, text="t", token_count=1,
        embedding=[0.0] * 383 + [1.0], embedding_model="all-MiniLM-L6-v2",
    )  # fmt: skip

    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM knowledge_chunk")
        assert cursor.fetchone()[0] == "knowledge_chunk_default"


def test_a_new_partition_keeps_its_vectors_inline():
    collection = collection_get_or_create(name="inline")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'embedding'",
            [partition_name(collection.pk)],
        )
        assert cursor.fetchone()[0] == "p"
