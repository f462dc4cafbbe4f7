"""Chinese documents and questions: the multilingual encoder, segmentation for full text, and
collections on different models searched together."""

import numpy as np
import pytest

from assistant.core.crosslingual import query_map
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.encoder import encoder, languages, similarity_scale
from assistant.knowledge.chunking import _sentences, chunk_blocks
from assistant.knowledge.models import Chunk, Collection, Document
from assistant.knowledge.parsers import Block
from assistant.knowledge.search import Reader, SearchRequest, SearchResult, knowledge_search
from assistant.knowledge.services.reembedding import collection_reembed
from assistant.knowledge.services.submission import collection_get_or_create
from assistant.training.config import ConfigError, TrainingConfig

# Questions of our own writing and their Chinese versions.
PAIRS = [
    ("How do I dispute a charge on my credit card?", "我怎样对信用卡上的一笔消费提出异议？"),
    ("What is a credit score?", "什么是信用评分？"),
    ("Can I stop a debt collector from calling me at work?", "我能让催收机构不再往我单位打电话吗？"),
    ("How long does a transfer abroad take?", "汇款到国外需要多长时间？"),
    ("What happens if I miss a mortgage payment?", "如果我错过一期房贷还款会怎样？"),
    ("How do I report a lost card?", "银行卡丢了怎么挂失？"),
]

FAQ_ZH = (
    "id,question,answer\n"
    "zh-card-lost,银行卡丢失或被盗怎么办？,请立即在手机银行中冻结卡片，或致电客服热线。补办的新卡将在五个工作日内寄到。\n"
    "zh-transfer-limit,每天最多可以转账多少？,手机银行单日转账限额为2.5万元。大额转账请携带身份证件到网点办理。\n"
    "zh-fund-fee,稳健债券基金的管理费是多少？,稳健债券基金的管理费为每年0.25%，最低投资额为1万元。\n"
)
MORTGAGE_EN = (
    b"# Missed mortgage payments\n\nIf you miss a mortgage payment, call your servicer at once. "
    b"Late fees apply after fifteen days, and after thirty days the missed payment is reported."
)


@pytest.fixture(scope="module")
def e5():
    return encoder(MULTILINGUAL_MODEL)


def test_the_multilingual_encoder_gives_unit_vectors_that_differ_for_queries_and_passages(e5):
    query, passage = e5.embed_query(PAIRS[0][0]), e5.embed([PAIRS[0][0]])[0]
    assert query.shape == passage.shape == (384,)
    assert np.isclose(np.linalg.norm(query), 1, atol=1e-4)
    assert np.isclose(np.linalg.norm(passage), 1, atol=1e-4)
    assert not np.allclose(query, passage)
    assert np.array_equal(e5.embed_query(PAIRS[0][0]), query)


def test_a_chinese_question_is_nearest_its_english_version(e5):
    """What the vendor claims and retrieval across languages relies on: a question and its
    translation are nearer each other than any other question of the set."""
    english = e5.embed([en for en, _ in PAIRS])
    chinese = np.stack([e5.embed_query(zh) for _, zh in PAIRS])
    assert list((chinese @ english.T).argmax(axis=1)) == list(range(len(PAIRS)))


def test_the_encoder_counts_its_own_tokens_and_splits_chinese_between_characters(e5):
    tokenizer = e5.tokenizer
    assert tokenizer.count([""]) == [0]
    (count,) = tokenizer.count(["稳健债券基金的管理费为每年0.25%。"])
    assert 3 < count < 20
    text = "本基金主要投资于短期债券。" * 40
    pieces = tokenizer.split(text, 50)
    assert len(pieces) > 3
    assert "".join(pieces) == text
    assert all(n <= 50 for n in tokenizer.count(pieces))


def test_chinese_sentences_end_at_chinese_punctuation_and_chunks_join_them_without_spaces(e5):
    assert _sentences("管理费为每年0.25%。最低投资额为1万元！是否保本？不保本。") == [
        "管理费为每年0.25%。",
        "最低投资额为1万元！",
        "是否保本？",
        "不保本。",
    ]
    blocks = [Block("本基金主要投资于短期债券。" * 30, "投资范围")]
    chunks = chunk_blocks("稳健债券基金", blocks, tokenizer=e5.tokenizer, max_tokens=64, overlap=8)
    assert len(chunks) > 2
    assert all(chunk.token_count <= 64 for chunk in chunks)
    assert " " not in chunks[0].text
    assert chunks[0].heading == "稳健债券基金 > 投资范围"


def test_a_chinese_document_is_segmented_and_found_by_full_text_and_by_meaning(db, index_files):
    collection = collection_get_or_create(name="faq-zh", embedding_model=MULTILINGUAL_MODEL)
    index_files(collection, [("faq.csv", FAQ_ZH.encode())])

    assert set(Document.objects.values_list("language", flat=True)) == {"zh"}
    words = Chunk.objects.get(document__external_id="zh-transfer-limit").words
    assert "转账 限额" in words
    assert "2.5 万元" in words
    for mode in ("lexical", "vector", "hybrid"):
        found = knowledge_search(
            reader=Reader.system(), request=SearchRequest(query="单日转账限额是多少", k=3, mode=mode)
        ).results
        assert found[0].external_id == "zh-transfer-limit", mode


def test_a_mixed_collection_answers_each_language_and_across_them(db, index_files):
    collection = collection_get_or_create(name="mixed", embedding_model=MULTILINGUAL_MODEL)
    index_files(collection, [("faq.csv", FAQ_ZH.encode()), ("mortgage.md", MORTGAGE_EN)])
    assert dict(Document.objects.values_list("external_id", "language"))["mortgage.md"] == "en"

    def top(query: str) -> str:
        request = SearchRequest(query=query, k=3, collections=["mixed"])
        return knowledge_search(reader=Reader.system(), request=request).results[0].external_id

    assert top("我的银行卡丢了") == "zh-card-lost"
    assert top("What happens if I miss a mortgage payment?") == "mortgage.md"
    # Only a Chinese passage answers it.
    assert top("How much can I transfer a day?") == "zh-transfer-limit"


def test_a_search_over_collections_on_two_models_embeds_the_query_once_per_model(db, index_files):
    english = collection_get_or_create(name="english")
    chinese = collection_get_or_create(name="chinese", embedding_model=MULTILINGUAL_MODEL)
    index_files(english, [("mortgage.md", MORTGAGE_EN)])
    index_files(chinese, [("faq.csv", FAQ_ZH.encode())])
    asked: list[str] = []

    def embed_query(model: str, text: str) -> np.ndarray:
        asked.append(model)
        return encoder(model).embed_query(text)

    response = knowledge_search(
        reader=Reader.system(),
        request=SearchRequest(query="missed mortgage payment late fees", k=4),
        embed_query=embed_query,
    )
    assert sorted(asked) == sorted(["all-MiniLM-L6-v2", MULTILINGUAL_MODEL])
    assert response.collections == ["chinese", "english"]
    assert response.results[0].external_id == "mortgage.md"


def test_similarities_of_every_model_are_reported_on_one_scale(db, index_files, settings):
    """The relevance threshold chosen with MiniLM holds for the multilingual model: its raw
    similarities (all near 0.8) are mapped onto MiniLM's scale."""
    assert similarity_scale("all-MiniLM-L6-v2") == (1.0, 0.0)
    assert similarity_scale(MULTILINGUAL_MODEL)[0] > 1
    collection = collection_get_or_create(name="faq-zh", embedding_model=MULTILINGUAL_MODEL)
    index_files(collection, [("faq.csv", FAQ_ZH.encode())])

    def best(query: str) -> float:
        request = SearchRequest(query=query, k=1, mode="vector")
        (result,) = knowledge_search(reader=Reader.system(), request=request).results
        assert result.parts.vector_similarity is not None
        return result.parts.vector_similarity

    assert best("稳健债券基金的管理费是多少") > settings.GENERATION_MIN_RELEVANCE
    assert best("明天北京会下雨吗") < settings.GENERATION_MIN_RELEVANCE


def test_an_english_collection_moved_to_the_multilingual_model_answers_chinese_questions(db, index_files):
    collection = collection_get_or_create(name="mortgages")
    index_files(
        collection, [("mortgage.md", MORTGAGE_EN), ("other.md", b"# Savings\n\nInterest is paid monthly.")]
    )
    assert languages(collection.embedding_model) == ("en",)

    collection_reembed(collection=collection, model_name=MULTILINGUAL_MODEL)

    request = SearchRequest(query="错过房贷还款会有滞纳金吗？", k=2, collections=["mortgages"], mode="vector")
    assert knowledge_search(reader=Reader.system(), request=request).results[0].external_id == "mortgage.md"
    assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {MULTILINGUAL_MODEL}


def test_a_chinese_question_searches_english_documents_through_the_map_and_the_word_table(db, index_files):
    """Where a collection's documents are all English the question's vector is mapped and its words
    translated; a collection holding Chinese documents too is searched with the question as asked."""
    english = collection_get_or_create(name="english", embedding_model=MULTILINGUAL_MODEL)
    mixed = collection_get_or_create(name="mixed", embedding_model=MULTILINGUAL_MODEL)
    index_files(english, [("mortgage.md", MORTGAGE_EN)])
    index_files(mixed, [("faq.csv", FAQ_ZH.encode()), ("mortgage.md", MORTGAGE_EN)])
    question = "如果我错过一期房贷还款会怎样？"
    asked = encoder(MULTILINGUAL_MODEL).embed_query(question)
    mapped = query_map(MULTILINGUAL_MODEL, "zh", "en")
    assert mapped is not None
    scale, shift = similarity_scale(MULTILINGUAL_MODEL)

    def searched(collection: str, mode: str, *, translate: bool = True) -> list[SearchResult]:
        request = SearchRequest(query=question, k=5, collections=[collection], mode=mode, translate=translate)
        return knowledge_search(reader=Reader.system(), request=request).results

    def similarity(collection: str, *, translate: bool = True) -> float:
        (hit,) = [
            r for r in searched(collection, "vector", translate=translate) if r.external_id == "mortgage.md"
        ]
        assert hit.parts.vector_similarity is not None
        return hit.parts.vector_similarity

    def expected(question_vector: np.ndarray, collection: Collection) -> float:
        passage = np.asarray(
            Chunk.objects.get(collection=collection, document__external_id="mortgage.md").embedding
        )
        return shift + float(question_vector @ passage) * scale

    assert similarity("english") == pytest.approx(expected(mapped(asked), english), abs=1e-4)
    assert similarity("english", translate=False) == pytest.approx(expected(asked, english), abs=1e-4)
    assert similarity("mixed") == pytest.approx(expected(asked, mixed), abs=1e-4)
    assert similarity("english") > similarity("english", translate=False)
    # Full text finds the English document by the question's translated words alone.
    assert [r.external_id for r in searched("english", "lexical")] == ["mortgage.md"]
    assert searched("english", "lexical", translate=False) == []


@pytest.mark.parametrize("method", ["lora", "full", "qlora"])
def test_fine_tuning_the_multilingual_model_is_refused_by_name(method):
    with pytest.raises(ConfigError, match="cannot be fine-tuned") as refused:
        TrainingConfig.build({"method": method, "base_model": MULTILINGUAL_MODEL})
    assert refused.value.field == "base_model"
    assert (
        TrainingConfig.build({"method": "knn", "base_model": MULTILINGUAL_MODEL}).base_model
        == MULTILINGUAL_MODEL
    )


def test_a_collection_on_an_unknown_model_is_refused_by_name(db):
    from assistant.core.hf import ModelNotFound

    with pytest.raises(ModelNotFound, match="multilingual-e5-small"):
        collection_get_or_create(name="nowhere", embedding_model="no-such-model")
