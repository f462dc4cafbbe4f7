"""The word counts full-text search ranks by (BM25), per collection."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.utils import timezone

from assistant.knowledge.models import Collection, LexiconState

logger = logging.getLogger("finassist.knowledge")


def lexicon_refresh(*, force: bool = False) -> list[str]:
    """Rebuild the word counts of full-text search for each collection whose chunks changed.

    Searches keep reading a collection's previous counts until its rebuild commits.
    Returns the names of the collections rebuilt.
    """
    rebuilt = []
    for collection in Collection.objects.all():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), coalesce(max(id), 0), coalesce(sum(token_count), 0) FROM knowledge_chunk "
                "WHERE collection_id = %s",
                [collection.pk],
            )
            total, last, tokens = cursor.fetchone()
        state, _ = LexiconState.objects.get_or_create(collection=collection)
        if not force and (state.chunks, state.last_chunk_id) == (total, last):
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM knowledge_lexeme WHERE collection_id = %s", [collection.pk])
            cursor.execute(
                "INSERT INTO knowledge_lexeme (collection_id, lexeme, chunks) SELECT %s, word, ndoc "
                "FROM ts_stat(format('SELECT search_vector FROM knowledge_chunk WHERE collection_id = %%s', "
                "%s::bigint))",
                [collection.pk, collection.pk],
            )
            state.chunks, state.last_chunk_id, state.tokens = total, last, tokens
            state.refreshed_at = timezone.now()
            state.save()
        rebuilt.append(collection.name)
        logger.info("lexicon of %s rebuilt from %d chunks", collection.name, total)
    return rebuilt
