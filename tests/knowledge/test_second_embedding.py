"""A collection embedded with two models: English questions searched with the first (English)
model as before, questions in other languages with the second (multilingual) one."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from advisory.services import knowledge_collections
from assistant.chat.selectors import chat_collections
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.encoder import encoder
from assistant.core.errors import ApplicationError
from assistant.core.hf import BUNDLED_MODEL
from assistant.knowledge.admin import CollectionForm
from assistant.knowledge.models import Chunk, Collection
from assistant.knowledge.search import Reader, SearchRequest, embedding_for, knowledge_search
from assistant.knowledge.services.reembedding import collection_reembed
from assistant.knowledge.services.submission import collection_get_or_create

MORTGAGE = (
    b"# Missed mortgage payments\n\nIf you miss a mortgage payment, call your servicer at once. "
    b"Late fees apply after fifteen days, and after thirty days the missed payment is reported."
)
SAVINGS = b"# Savings accounts\n\nInterest on a savings account is paid monthly and compounds daily."
ENGLISH_QUESTION = "What happens if I miss a mortgage payment?"
CHINESE_QUESTION = "如果我错过一期房贷还款会怎样？"


def _similarity(collection: str, question: str, external_id: str = "mortgage.md") -> float:
    request = SearchRequest(query=question, k=5, collections=[collection], mode="vector", translate=False)
    results = knowledge_search(reader=Reader.system(), request=request).results
    (hit,) = [result for result in results if result.external_id == external_id]
    assert hit.parts.vector_similarity is not None
    return hit.parts.vector_similarity


def _expected(model: str, question: str, passage: object) -> float:
    from assistant.core.encoder import similarity_scale

    scale, shift = similarity_scale(model)
    return shift + float(encoder(model).embed_query(question) @ np.asarray(passage)) * scale


def test_each_language_is_searched_with_the_model_that_reads_it():
    assert embedding_for(BUNDLED_MODEL, MULTILINGUAL_MODEL, "en") == (BUNDLED_MODEL, "embedding")
    assert embedding_for(BUNDLED_MODEL, MULTILINGUAL_MODEL, "zh") == (MULTILINGUAL_MODEL, "second_embedding")
    assert embedding_for(MULTILINGUAL_MODEL, BUNDLED_MODEL, "zh") == (MULTILINGUAL_MODEL, "embedding")
    assert embedding_for(BUNDLED_MODEL, "", "zh") == (BUNDLED_MODEL, "embedding")


def test_indexing_embeds_every_chunk_with_both_models_and_a_search_uses_the_one_for_its_language(
    db, index_files
):
    collection = collection_get_or_create(
        name="bilingual", embedding_model=BUNDLED_MODEL, second_embedding_model=MULTILINGUAL_MODEL
    )
    index_files(collection, [("mortgage.md", MORTGAGE), ("savings.md", SAVINGS)])
    chunk = Chunk.objects.get(document__external_id="mortgage.md")
    assert (chunk.embedding_model, chunk.second_embedding_model) == (BUNDLED_MODEL, MULTILINGUAL_MODEL)
    assert _similarity("bilingual", ENGLISH_QUESTION) == pytest.approx(
        _expected(BUNDLED_MODEL, ENGLISH_QUESTION, chunk.embedding), abs=1e-3
    )
    assert _similarity("bilingual", CHINESE_QUESTION) == pytest.approx(
        _expected(MULTILINGUAL_MODEL, CHINESE_QUESTION, chunk.second_embedding), abs=1e-4
    )
    request = SearchRequest(query=CHINESE_QUESTION, k=2, collections=["bilingual"])
    assert knowledge_search(reader=Reader.system(), request=request).results[0].external_id == "mortgage.md"


def test_a_second_model_is_added_and_removed_in_one_switch_each(db, index_files):
    collection = collection_get_or_create(name="english")
    index_files(collection, [("mortgage.md", MORTGAGE), ("savings.md", SAVINGS)])
    assert set(Chunk.objects.values_list("second_embedding_model", flat=True)) == {""}

    report = collection_reembed(collection=collection, model_name=MULTILINGUAL_MODEL, second=True)

    assert (report.previous_model, report.model, report.chunks) == ("", MULTILINGUAL_MODEL, 2)
    collection.refresh_from_db()
    assert (collection.embedding_model, collection.second_embedding_model) == (
        BUNDLED_MODEL,
        MULTILINGUAL_MODEL,
    )
    assert set(Chunk.objects.values_list("embedding_model", "second_embedding_model")) == {
        (BUNDLED_MODEL, MULTILINGUAL_MODEL)
    }
    assert _similarity("english", CHINESE_QUESTION) == pytest.approx(
        _expected(
            MULTILINGUAL_MODEL,
            CHINESE_QUESTION,
            Chunk.objects.get(document__external_id="mortgage.md").second_embedding,
        ),
        abs=1e-4,
    )
    # A document indexed now gets both vectors.
    index_files(collection, [("fees.md", b"# Fees\n\nA wire transfer abroad costs 25 dollars.")])
    assert Chunk.objects.get(document__external_id="fees.md").second_embedding is not None

    call_command("reembed", collection="english", model="", second=True)

    collection.refresh_from_db()
    assert collection.second_embedding_model == ""
    assert not Chunk.objects.filter(second_embedding__isnull=False).exists()
    assert _similarity("english", ENGLISH_QUESTION) > 0.5


def test_a_second_model_that_is_the_first_is_refused_by_name(db):
    with pytest.raises(ApplicationError, match="the second embedding model is the first one"):
        collection_get_or_create(name="twice", second_embedding_model=BUNDLED_MODEL)
    collection = collection_get_or_create(name="once")
    with pytest.raises(CommandError, match="once is embedded with all-MiniLM-L6-v2 already"):
        call_command("reembed", collection="once", model=BUNDLED_MODEL, second=True)
    form = CollectionForm(
        data={
            "name": "twice",
            "embedding_model": MULTILINGUAL_MODEL,
            "second_embedding_model": MULTILINGUAL_MODEL,
        }
    )
    assert form.errors["second_embedding_model"] == ["the second model must differ from the first"]
    assert not Collection.objects.filter(name="twice").exists()
    assert collection.second_embedding_model == ""


def test_advisory_and_chat_count_a_collection_with_a_multilingual_second_model_as_reading_chinese(
    db, settings, django_user_model
):
    settings.CHAT_COLLECTIONS = ["faq", "faq-bilingual"]
    english = collection_get_or_create(name="faq")
    bilingual = collection_get_or_create(name="faq-bilingual", second_embedding_model=MULTILINGUAL_MODEL)
    assert chat_collections("zh") == ["faq-bilingual"]
    assert sorted(chat_collections("en")) == ["faq", "faq-bilingual"]
    advisor = django_user_model.objects.create_user("advisor")
    for collection in (english, bilingual):
        collection.reader_users.add(advisor)
    chosen = knowledge_collections(advisor=advisor, requested=["faq", "faq-bilingual"], language="zh")
    assert chosen == ["faq-bilingual"]
