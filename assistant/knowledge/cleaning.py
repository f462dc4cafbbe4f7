"""Text as extracted (from PDFs above all) made fit to chunk, cite and quote.

Applied to a document's stored blocks when it is chunked, so a re-index cleans what was
stored before. Ligatures become their letters, glyphs with no text (U+FFFD, a font's private
symbols) are dropped and bullets become list lines ("- "); letter-spaced runs ("F I N C E N")
close up; a word broken at a line end joins; sentences run together ("90 days.If") part; and
in a paged document, the lines that head or foot most of its pages (running headers and footers,
page numbers) are removed and the rest of each paragraph flows as one line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from assistant.knowledge.parsers import Block

_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
# Symbol-font bullets (Wingdings' and Symbol's, read as private-use characters) and Unicode ones.
_BULLET = "\u2022\u25cf\u25aa\u25e6\u2023\u2219\u25a0\u25a1\uf0b7\uf0a7\uf0d8\uf076"
_BULLET_RUN = re.compile(rf"\s*[{_BULLET}]\s*")
_NO_GLYPH = re.compile("[\ufffd\ue000-\uf8ff]")
_LETTER_SPACED = re.compile(r"(?<![\w.])(?:[^\W\d_] ){3,}[^\W\d_](?![\w])")
_BROKEN_WORD = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_RUN_TOGETHER = re.compile(r"(?<=[a-z0-9%)][.!?])(?=[A-Z][a-z])")
# A line among the first or last EDGE_LINES of a page, there on at least REPEATED_SHARE of the pages (and
# at least MIN_PAGES), is a running header or footer.
EDGE_LINES = 3
REPEATED_SHARE = 0.5
MIN_PAGES = 3


def cleaned_text(text: str) -> str:
    text = _NO_GLYPH.sub(
        lambda match: match.group() if match.group() in _BULLET else "", text.translate(_LIGATURES)
    )
    text = _BULLET_RUN.sub("\n- ", text)
    text = _LETTER_SPACED.sub(lambda match: match.group().replace(" ", ""), text)
    text = _BROKEN_WORD.sub("", text)
    text = _RUN_TOGETHER.sub(" ", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line not in ("", "-"))


def _flowed(lines: Sequence[str]) -> str:
    """A paged block's lines as running text, list items on lines of their own."""
    text = ""
    for line in lines:
        separator = "\n" if line.startswith("- ") else " "
        text = f"{text}{separator}{line}" if text else line
    return text


def _key(line: str) -> str:
    """A line as it repeats from page to page: page numbers and dates change."""
    return re.sub(r"\d+", "#", line.lower())


def _edges(blocks: Sequence[Block]) -> dict[int, set[tuple[int, int]]]:
    """page -> the (block, line) positions of its first and last EDGE_LINES lines."""
    positions: dict[int, list[tuple[int, int]]] = {}
    for index, block in enumerate(blocks):
        if block.page is not None:
            lines = block.text.splitlines()
            positions.setdefault(block.page, []).extend((index, number) for number in range(len(lines)))
    return {page: set(found[:EDGE_LINES] + found[-EDGE_LINES:]) for page, found in positions.items()}


def _page_number_offsets(lines: list[list[str]], edges: dict[int, set[tuple[int, int]]]) -> set[int]:
    """The offsets (number - page) of bare numbers at page edges that count the pages: a table's last
    figure is a bare number too, but not one that grows with the page."""
    offsets: Counter[int] = Counter()
    for page, found in edges.items():
        offsets.update(
            {int(lines[index][number]) - page for index, number in found if lines[index][number].isdigit()}
        )
    needed = max(MIN_PAGES, REPEATED_SHARE * len(edges))
    return {offset for offset, count in offsets.items() if count >= needed}


def cleaned_blocks(blocks: Sequence[Block]) -> list[Block]:
    """The blocks cleaned (see the module); blocks left empty are dropped."""
    cleaned = [replace(block, text=cleaned_text(block.text)) for block in blocks]
    lines = [block.text.splitlines() for block in cleaned]
    edges = _edges(cleaned)
    on_pages: Counter[str] = Counter()
    for found in edges.values():
        on_pages.update({_key(lines[index][number]) for index, number in found})
    needed = max(MIN_PAGES, REPEATED_SHARE * len(edges))
    running = {key for key, count in on_pages.items() if count >= needed and key != "#"}
    offsets = _page_number_offsets(lines, edges)

    def running_line(block: Block, index: int, number: int) -> bool:
        line = lines[index][number]
        if block.page is None or (index, number) not in edges[block.page]:
            return False
        return _key(line) in running or (line.isdigit() and int(line) - block.page in offsets)

    kept = []
    for index, block in enumerate(cleaned):
        kept_lines = [
            line for number, line in enumerate(lines[index]) if not running_line(block, index, number)
        ]
        text = _flowed(kept_lines) if block.page is not None else "\n".join(kept_lines)
        if text:
            kept.append(replace(block, text=text))
    return kept
