"""What lets a question in one language search documents in another: the map of a model's question
vectors and the word table for full-text search."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from assistant.core import crosslingual
from assistant.core.crosslingual import (
    WordTable,
    pairs_digest,
    parallel_questions,
    query_map,
    ridge_map,
    word_table,
    word_translations,
)
from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.core.encoder import encoder
from assistant.core.errors import ApplicationError


def test_a_strong_hold_keeps_the_identity_and_a_weak_one_recovers_a_linear_relation():
    rng = np.random.default_rng(0)
    sources = rng.normal(size=(200, 8))
    rotation = np.linalg.qr(rng.normal(size=(8, 8)))[0]
    targets = sources @ rotation
    assert np.allclose(ridge_map(sources, targets, 1e6), np.eye(8), atol=1e-2)
    assert np.allclose(ridge_map(sources, targets, 1e-6), rotation, atol=1e-3)


def test_word_alignment_finds_each_words_translation_from_sentence_pairs_alone():
    pairs = [
        (["信用卡", "利息"], ["the", "credit", "card", "interest"]),
        (["信用卡", "年费"], ["the", "card", "annual", "fee"]),
        (["房贷", "利息"], ["mortgage", "interest"]),
        (["房贷", "年费"], ["a", "mortgage", "fee"]),
    ]
    table = word_translations(pairs, ignore=frozenset({"the", "a"}))
    assert table["信用卡"][0] == "card"
    assert table["房贷"] == ["mortgage"]
    assert table["利息"][0] == "interest"
    assert not any({"the", "a"} & set(options) for options in table.values())


def test_a_table_translates_content_words_and_keeps_names_written_in_the_target_script():
    table = WordTable("zh", "en", {"信用卡": ["card", "credit"], "年费": ["annual", "fee"]})
    assert table.words("我的信用卡年费是多少？CFPB 说什么") == ["card", "credit", "annual", "fee", "cfpb"]


def test_the_shipped_parallel_questions_hold_both_languages_on_every_line():
    pairs = parallel_questions()
    assert len(pairs) >= 3000
    assert len({pair["en"] for pair in pairs}) == len(pairs)


def test_a_line_missing_a_language_is_named(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        json.dumps({"en": "What is APR?", "zh": "什么是年利率？"}) + "\n" + json.dumps({"en": "x"}) + "\n"
    )
    with pytest.raises(
        ApplicationError, match=r"pairs\.jsonl line 2: needs a non-empty text in each of en and zh"
    ):
        parallel_questions(path)


def test_the_shipped_map_and_table_were_fitted_on_the_shipped_questions():
    """Questions changed without a refit (manage.py fit_query_translation) fail here."""
    pairs = parallel_questions()
    fitted = {"pairs": len(pairs), "pairs_sha256": pairs_digest(pairs)}
    described = json.loads((crosslingual.DATA / f"{MULTILINGUAL_MODEL}.zh-en.json").read_text())
    table = json.loads((crosslingual.DATA / "words.zh-en.json").read_text(encoding="utf-8"))
    assert {key: described[key] for key in fitted} == fitted
    assert {key: table[key] for key in fitted} == fitted
    mapped = query_map(MULTILINGUAL_MODEL, "zh", "en")
    assert mapped is not None
    assert mapped.matrix.shape == (384, 384)
    assert query_map(MULTILINGUAL_MODEL, "en", "zh") is None
    assert query_map("all-MiniLM-L6-v2", "zh", "en") is None
    words = word_table("zh", "en")
    assert words is not None
    assert "mortgage" in words.words("房贷")


def test_a_fitted_map_brings_unseen_chinese_questions_nearer_their_english_versions(tmp_path, monkeypatch):
    monkeypatch.setattr(crosslingual, "DATA", tmp_path)
    query_map.cache_clear()
    word_table.cache_clear()
    pairs = parallel_questions()[:80]
    try:
        fitted, words = crosslingual.fit_query_translation(
            MULTILINGUAL_MODEL, source="zh", target="en", pairs=pairs[:60]
        )
        assert query_map(MULTILINGUAL_MODEL, "zh", "en") is not None
        assert word_table("zh", "en") == words
    finally:
        query_map.cache_clear()
        word_table.cache_clear()
    e5 = encoder(MULTILINGUAL_MODEL)
    unseen = pairs[60:]
    chinese = np.stack([e5.embed_query(pair["zh"]) for pair in unseen])
    english = np.stack([e5.embed_query(pair["en"]) for pair in unseen])
    before = np.einsum("ij,ij->i", chinese, english).mean()
    after = np.mean([fitted(vector) @ target for vector, target in zip(chinese, english, strict=True)])
    assert after > before


def test_the_command_refuses_a_model_that_reads_one_language():
    with pytest.raises(CommandError, match="does not read both zh and en"):
        call_command("fit_query_translation", model="all-MiniLM-L6-v2")


def test_the_command_refuses_translating_a_language_into_itself():
    with pytest.raises(CommandError, match="the two languages are the same"):
        call_command("fit_query_translation", source="en", target="en")


def test_the_command_refuses_a_strength_that_is_not_positive():
    with pytest.raises(CommandError, match="the strength must be above 0"):
        call_command("fit_query_translation", strength=0)
