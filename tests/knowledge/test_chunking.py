from collections.abc import Sequence
from itertools import pairwise

from assistant.knowledge.chunking import chunk_blocks
from assistant.knowledge.parsers import Block


class WordTokenizer:
    """One token per word: enough to check the packing rules."""

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(text.split()) for text in texts]

    def split(self, text: str, max_tokens: int) -> list[str]:
        words = text.split()
        return [" ".join(words[i : i + max_tokens]) for i in range(0, len(words), max_tokens)]


def sentence(n: int, words: int = 5) -> str:
    return " ".join(f"w{n}x{i}" for i in range(words - 1)) + f" end{n}."


def test_chunks_fit_the_budget_with_their_heading_and_repeat_the_previous_tail():
    text = " ".join(sentence(n) for n in range(12))  # 60 words
    chunks = chunk_blocks(
        "Guide", [Block(text, "Costs")], tokenizer=WordTokenizer(), max_tokens=22, overlap=5
    )

    assert all(chunk.heading == "Guide > Costs" for chunk in chunks)
    assert all(chunk.token_count <= 22 for chunk in chunks)
    assert [chunk.position for chunk in chunks] == list(range(len(chunks)))
    for previous, current in pairwise(chunks):
        last_sentence = previous.text.split(". ")[-1].rstrip(".")
        assert current.text.startswith(last_sentence)
    covered = " ".join(chunk.text for chunk in chunks)
    assert all(f"end{n}." in covered for n in range(12))


def test_a_chunk_never_spans_two_sections_or_two_pages():
    blocks = [
        Block(sentence(1), "Costs", page=0),
        Block(sentence(2), "Costs", page=1),
        Block(sentence(3), "Risk", page=1),
    ]
    chunks = chunk_blocks("Guide", blocks, tokenizer=WordTokenizer(), max_tokens=100, overlap=10)

    assert [(c.heading, c.page, c.text) for c in chunks] == [
        ("Guide > Costs", 0, sentence(1)),
        ("Guide > Costs", 1, sentence(2)),
        ("Guide > Risk", 1, sentence(3)),
    ]


def test_a_sentence_longer_than_a_chunk_is_cut_and_paragraphs_keep_their_breaks():
    long = " ".join(f"t{i}" for i in range(50))
    chunks = chunk_blocks(
        "T", [Block(long), Block("Short one.")], tokenizer=WordTokenizer(), max_tokens=21, overlap=0
    )

    assert [chunk.token_count for chunk in chunks] == [21, 21, 13]
    assert chunks[-1].text == "t40 t41 t42 t43 t44 t45 t46 t47 t48 t49\nShort one."
    assert chunks[0].embedding_input == "T\n" + " ".join(f"t{i}" for i in range(20))


def test_an_overlong_heading_is_cut_to_half_the_budget():
    chunks = chunk_blocks(
        "T", [Block("Body text.", " ".join(["h"] * 40))], tokenizer=WordTokenizer(), max_tokens=20, overlap=0
    )

    assert WordTokenizer().count([chunks[0].heading]) == [10]
    assert chunks[0].text == "Body text."
