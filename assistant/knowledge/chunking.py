"""Token-aware chunking: passages that fit the embedding model, with overlap, that keep
their document title, heading path and page.

A chunk never spans two sections or two pages, so its heading and page are exact. Text
is packed a sentence at a time (Chinese sentences end at their own punctuation, with no space
after it); a sentence longer than a chunk is cut at word boundaries.
Each chunk repeats the last sentences (up to `overlap` tokens) of the one before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby, pairwise

from assistant.core.encoder import Tokenizer
from assistant.core.language import CHINESE_SENTENCE_END, gap, has_han, segmented
from assistant.knowledge.parsers import Block


@dataclass(frozen=True)
class ChunkSpec:
    position: int
    heading: str
    page: int | None
    text: str
    token_count: int

    @property
    def embedding_input(self) -> str:
        """What is embedded: the heading path gives the passage its context."""
        return f"{self.heading}\n{self.text}"

    @property
    def words(self) -> str:
        """What full-text search indexes where the passage holds Chinese: its words segmented."""
        text = self.embedding_input
        return segmented(text) if has_han(text) else ""


# A sentence ends at . ! or ? followed by space, or at a Chinese stop; a line break in a block
# also ends one.
_SENTENCE_END = re.compile(rf"(?<=[.!?])\s+|\n+|{CHINESE_SENTENCE_END}\s*")


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


@dataclass
class _Piece:
    text: str
    tokens: int
    paragraph_start: bool


def _pieces(blocks: Iterable[Block], budget: int, tokenizer: Tokenizer) -> list[_Piece]:
    raw = [
        (sentence, index == 0) for block in blocks for index, sentence in enumerate(_sentences(block.text))
    ]
    pieces = []
    for (sentence, starts), tokens in zip(raw, tokenizer.count([s for s, _ in raw]), strict=True):
        if tokens <= budget:
            pieces.append(_Piece(sentence, tokens, starts))
            continue
        parts = tokenizer.split(sentence, budget)
        for index, (part, part_tokens) in enumerate(zip(parts, tokenizer.count(parts), strict=True)):
            pieces.append(_Piece(part, part_tokens, starts and index == 0))
    return pieces


def _join(pieces: Sequence[_Piece]) -> str:
    text = pieces[0].text
    for before, piece in pairwise(pieces):
        text += "\n" if piece.paragraph_start else gap(before.text, piece.text)
        text += piece.text
    return text


def _pack(pieces: list[_Piece], budget: int, overlap: int) -> list[list[_Piece]]:
    chunks: list[list[_Piece]] = []
    current: list[_Piece] = []
    size = 0
    for piece in pieces:
        if current and size + piece.tokens > budget:
            chunks.append(current)
            carried: list[_Piece] = []
            carried_size = 0
            for previous in reversed(current):
                if carried_size + previous.tokens > overlap:
                    break
                carried.insert(0, previous)
                carried_size += previous.tokens
            if carried_size + piece.tokens > budget:
                carried, carried_size = [], 0
            current, size = carried, carried_size
        current.append(piece)
        size += piece.tokens
    if current:
        chunks.append(current)
    return chunks


def chunk_blocks(
    title: str, blocks: Sequence[Block], *, tokenizer: Tokenizer, max_tokens: int, overlap: int
) -> list[ChunkSpec]:
    """Chunks whose embedding input (heading line and text) fits in `max_tokens` tokens."""
    specs: list[ChunkSpec] = []
    for (heading, page), section in groupby(blocks, key=lambda block: (block.heading, block.page)):
        path = f"{title} > {heading}" if heading else title
        (heading_tokens,) = tokenizer.count([path])
        if heading_tokens > max_tokens // 2:
            path = tokenizer.split(path, max_tokens // 2)[0]
            (heading_tokens,) = tokenizer.count([path])
        budget = max_tokens - heading_tokens
        for group in _pack(_pieces(section, budget, tokenizer), budget, overlap):
            specs.append(
                ChunkSpec(
                    position=len(specs),
                    heading=path,
                    page=page,
                    text=_join(group),
                    token_count=heading_tokens + sum(piece.tokens for piece in group),
                )
            )
    return specs
