"""Files to text: blocks that keep their heading path and page, ready for chunking.

Every format answers with `ParsedDocument`s (FAQ files give one per question) or raises
`RejectedFile` with the reason, so a batch can report each bad file and carry on. A file is held
to `ParseLimits`: its size, what it expands to, its pages and blocks, and text that can be stored.
The limits on time and memory hold where the containers (DOCX, PDF) are parsed: in a process of
their own (`sandbox`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePath
from typing import Any

from assistant.core.errors import ApplicationError
from assistant.core.storable import TooDeep, problems, text_problem


@dataclass(frozen=True)
class ParseLimits:
    """What one file may take; each breach is a rejection that names the setting."""

    max_bytes: int
    max_expanded_bytes: int
    max_pages: int
    max_blocks: int
    max_seconds: float
    max_memory_mb: int

    @classmethod
    def from_settings(cls) -> ParseLimits:
        from django.conf import settings

        return cls(
            max_bytes=settings.UPLOAD_MAX_BYTES,
            max_expanded_bytes=settings.PARSE_MAX_EXPANDED_BYTES,
            max_pages=settings.PARSE_MAX_PAGES,
            max_blocks=settings.PARSE_MAX_BLOCKS,
            max_seconds=settings.PARSE_MAX_SECONDS,
            max_memory_mb=settings.PARSE_MAX_MEMORY_MB,
        )


@dataclass(frozen=True)
class Block:
    text: str
    heading: str = ""
    page: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "heading": self.heading, "page": self.page}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        return cls(text=data["text"], heading=data.get("heading", ""), page=data.get("page"))


@dataclass
class ParsedDocument:
    external_id: str
    title: str
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id,
            "title": self.title,
            "blocks": [block.as_dict() for block in self.blocks],
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedDocument:
        blocks = [Block.from_dict(block) for block in data["blocks"]]
        return cls(data["external_id"], data["title"], blocks, data["metadata"])


class RejectedFile(ApplicationError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def _paragraphs(text: str) -> list[str]:
    return [" ".join(part.split()) for part in re.split(r"\n\s*\n", text) if part.strip()]


def _line_paragraphs(text: str) -> list[str]:
    """Paragraphs that keep their line breaks: a page's running header or footer is a line of its
    own, for `cleaning` to recognise (it flows the lines after)."""
    paragraphs = (part.splitlines() for part in re.split(r"\n\s*\n", text))
    return [
        text
        for lines in paragraphs
        if (text := "\n".join(" ".join(line.split()) for line in lines if line.strip()))
    ]


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise RejectedFile(name, "binary content where text was expected")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 is what text from office software most often is when it is not UTF-8.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            raise RejectedFile(name, "text in an unknown encoding (expected UTF-8)") from None


def _stem_title(name: str) -> str:
    return PurePath(name).stem.replace("_", " ").replace("-", " ").strip() or name


def parse_text(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    blocks = [Block(paragraph) for paragraph in _paragraphs(_decode(name, data))]
    return [ParsedDocument(name, _stem_title(name), blocks)]


_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _heading_path(stack: list[str]) -> str:
    return " > ".join(stack)


def parse_markdown(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    title = ""
    stack: list[str] = []
    blocks: list[Block] = []
    lines: list[str] = []

    def flush() -> None:
        for paragraph in _paragraphs("\n".join(lines)):
            blocks.append(Block(paragraph, _heading_path(stack)))
        lines.clear()

    in_code = False
    for line in _decode(name, data).splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        match = None if in_code else _MD_HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        flush()
        level, text = len(match.group(1)), match.group(2)
        if level == 1 and not title:
            title = text
            continue
        del stack[max(0, level - 2) :]
        stack.append(text)
    flush()
    return [ParsedDocument(name, title or _stem_title(name), blocks)]


class _HtmlText(HTMLParser):
    BLOCKS = {"p", "div", "li", "td", "th", "tr", "section", "article", "blockquote", "pre", "dd", "dt", "br"}
    HEADINGS = {f"h{level}": level for level in range(1, 7)}
    SKIP = {"script", "style", "noscript", "template", "svg", "nav", "footer"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.blocks: list[Block] = []
        self._stack: list[tuple[int, str]] = []
        self._text: list[str] = []
        self._heading: tuple[int, list[str]] | None = None
        self._in_title = False
        self._skip = 0

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text.clear()
        if text:
            self.blocks.append(Block(text, _heading_path([h for _, h in self._stack])))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self.HEADINGS:
            self._flush()
            self._heading = (self.HEADINGS[tag], [])
        elif tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in self.HEADINGS and self._heading is not None:
            level, parts = self._heading
            self._heading = None
            text = " ".join("".join(parts).split())
            if not text:
                return
            if level == 1 and not self.title:
                self.title = text
                return
            self._stack = [(lvl, h) for lvl, h in self._stack if lvl < level] + [(level, text)]
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title = self.title or " ".join(data.split())
        elif self._heading is not None:
            self._heading[1].append(data)
        else:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    parser = _HtmlText()
    parser.feed(_decode(name, data))
    parser.close()
    return [ParsedDocument(name, parser.title or _stem_title(name), parser.blocks)]


def parse_pdf(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PdfReadError

    ceiling = limits.max_expanded_bytes
    try:
        with apply_configuration(
            maximum_declared_stream_length=ceiling,
            array_based_stream_maximum_output_length=ceiling,
            zlib_maximum_output_length=ceiling,
            lzw_maximum_output_length=ceiling,
            run_length_maximum_output_length=ceiling,
            brotli_maximum_output_length=ceiling,
            jbig2_maximum_output_length=ceiling,
            stream_decoding_work_maximum_length=ceiling,
        ):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise RejectedFile(name, "the PDF is encrypted")
            if len(reader.pages) > limits.max_pages:
                raise RejectedFile(
                    name,
                    f"{len(reader.pages):,} pages is over the limit of {limits.max_pages:,} "
                    "(FINASSIST_PARSE_MAX_PAGES)",
                )
            pages = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata.title if reader.metadata else None) or ""
    except RejectedFile:
        raise
    except LimitReachedError:
        raise RejectedFile(name, _expanded_over(limits)) from None
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RejectedFile(name, f"not a readable PDF ({exc})") from None
    blocks = [
        Block(paragraph, page=number)
        for number, text in enumerate(pages)
        for paragraph in _line_paragraphs(text.replace("\r", "\n"))
    ]
    return [ParsedDocument(name, title.strip() or _stem_title(name), blocks)]


def _expanded_over(limits: ParseLimits, expanded: int | None = None) -> str:
    amount = f"{expanded:,} bytes" if expanded is not None else "more"
    return (
        f"expands to {amount} when decompressed, over the limit of {limits.max_expanded_bytes:,} "
        "(FINASSIST_PARSE_MAX_EXPANDED_BYTES)"
    )


def parse_docx(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError  # type: ignore[import-untyped]

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
        if expanded > limits.max_expanded_bytes:
            raise RejectedFile(name, _expanded_over(limits, expanded))
        document = open_docx(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError) as exc:
        raise RejectedFile(name, f"not a readable DOCX ({exc})") from None
    from docx.table import Table

    title = (document.core_properties.title or "").strip()
    stack: list[tuple[int, str]] = []
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [" ".join(cell.text.split()) for cell in row.cells]
                if any(cells):
                    blocks.append(Block(" | ".join(cells), _heading_path([h for _, h in stack])))
            continue
        text = " ".join(item.text.split())
        style = item.style.name if item.style is not None else ""
        if not text:
            continue
        if style == "Title" and not title:
            title = text
        elif (level := re.fullmatch(r"Heading (\d)", style)) is not None:
            depth = int(level.group(1))
            stack = [(d, h) for d, h in stack if d < depth] + [(depth, text)]
        else:
            blocks.append(Block(text, _heading_path([h for _, h in stack])))
    return [ParsedDocument(name, title or _stem_title(name), blocks)]


def _faq_documents(
    name: str, rows: list[dict[str, Any]], where: Callable[[int], str]
) -> list[ParsedDocument]:
    documents = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        fields = {str(key).strip().lower(): value for key, value in row.items() if key is not None}
        question = " ".join(str(fields.get("question") or "").split())
        answer = str(fields.get("answer") or "").strip()
        if not question or not answer:
            raise RejectedFile(name, f"{where(number)} needs both a question and an answer")
        external_id = str(fields.get("id") or "").strip() or f"{PurePath(name).stem}-{number}"
        if external_id in seen:
            raise RejectedFile(name, f"{where(number)} repeats the id {external_id!r}")
        seen.add(external_id)
        extra = {key: value for key, value in fields.items() if key not in {"id", "question", "answer"}}
        blocks = [Block(paragraph) for paragraph in _paragraphs(answer)]
        documents.append(ParsedDocument(external_id, question, blocks, {"faq_source": name, **extra}))
    return documents


def parse_faq_csv(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    try:
        reader = csv.DictReader(io.StringIO(_decode(name, data)))
        rows = list(reader)
    except csv.Error as exc:
        raise RejectedFile(name, f"not a readable CSV ({exc})") from None
    columns = {str(column).strip().lower() for column in reader.fieldnames or []}
    if not {"question", "answer"} <= columns:
        raise RejectedFile(name, "a FAQ CSV needs the columns question and answer (id is optional)")
    return _faq_documents(name, rows, lambda number: f"row {number + 1}")


def parse_faq_jsonl(name: str, data: bytes, limits: ParseLimits) -> list[ParsedDocument]:
    rows = []
    for number, line in enumerate(_decode(name, data).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RejectedFile(name, f"line {number} is not JSON ({exc.msg})") from None
        except RecursionError:
            raise RejectedFile(name, f"line {number} nests too deep") from None
        if not isinstance(row, dict):
            raise RejectedFile(name, f"line {number} is not a JSON object")
        rows.append(row)
    return _faq_documents(name, rows, lambda number: f"record {number}")


PARSERS: dict[str, Callable[[str, bytes, ParseLimits], list[ParsedDocument]]] = {
    ".txt": parse_text,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".pdf": parse_pdf,
    ".docx": parse_docx,
    ".csv": parse_faq_csv,
    ".jsonl": parse_faq_jsonl,
}


def parse_file(name: str, data: bytes, *, limits: ParseLimits) -> list[ParsedDocument]:
    """Parse one file by its extension in this process; RejectedFile says why a file cannot go in."""
    parser = parser_for(name, len(data), limits)
    if not data.strip():
        raise RejectedFile(name, "the file is empty")
    documents = parser(name, data, limits)
    blocks = sum(len(document.blocks) for document in documents)
    if blocks > limits.max_blocks:
        raise RejectedFile(
            name,
            f"{blocks:,} blocks of text is over the limit of {limits.max_blocks:,} "
            "(FINASSIST_PARSE_MAX_BLOCKS)",
        )
    if not any(block.text for document in documents for block in document.blocks):
        raise RejectedFile(name, "no text found (a scanned PDF without a text layer needs OCR first)")
    for document in documents:
        _check_storable(name, document)
    return documents


def parser_for(
    name: str, size: int, limits: ParseLimits
) -> Callable[[str, bytes, ParseLimits], list[ParsedDocument]]:
    """The parser of a file's format, after the checks that need only its name and size."""
    suffix = PurePath(name).suffix.lower()
    parser = PARSERS.get(suffix)
    if parser is None:
        supported = ", ".join(sorted(PARSERS))
        raise RejectedFile(name, f"unsupported format {suffix or '(no extension)'} (supported: {supported})")
    if size > limits.max_bytes:
        raise RejectedFile(
            name, f"{size:,} bytes is over the limit of {limits.max_bytes:,} (FINASSIST_UPLOAD_MAX_BYTES)"
        )
    if size == 0:
        raise RejectedFile(name, "the file is empty")
    return parser


def _check_storable(name: str, document: ParsedDocument) -> None:
    where = f"{document.external_id}: " if document.external_id != name else ""
    texts = [("the title", document.title)]
    for number, block in enumerate(document.blocks, start=1):
        texts += [(f"block {number}", block.text), (f"block {number}'s heading", block.heading)]
    for place, text in texts:
        if problem := text_problem(text):
            raise RejectedFile(name, f"{where}{place} {problem}")
    try:
        for place, problem in problems(document.metadata).items():
            raise RejectedFile(name, f"{where}the field {place} {problem}")
    except TooDeep as exc:
        raise RejectedFile(name, f"{where}{exc}") from None
