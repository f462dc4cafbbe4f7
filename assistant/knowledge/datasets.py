"""Loaders for the public datasets in FINASSIST_DATASETS_DIR (read in place, never copied).

Each loader yields `ParsedDocument`s with the external ids the evaluation files use.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings

from assistant.core.errors import ApplicationError
from assistant.knowledge.parsers import Block, ParsedDocument


def _text(path: Path) -> TextIO:
    """A text file, uncompressed as it is read when it ends in .xz or .gz."""
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with _text(path) as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]


def ask_cfpb(folder: Path) -> Iterator[ParsedDocument]:
    """One document per Ask CFPB answer, titled by its topic.

    The subcategories stay in the metadata: as part of the title (embedded with every
    chunk) they lowered nDCG@10 on the validation questions (docs/retrieval.md, Quality).
    """
    for row in _jsonl(folder / "kb_answers.jsonl"):
        title = row["topic"]
        text = "\n\n".join(part for part in (row["short_answer"], row["answer"]) if part.strip())
        yield ParsedDocument(
            external_id=f"ask-cfpb-{row['ask_id']}",
            title=title,
            blocks=[Block(paragraph) for paragraph in _paragraphs(text)],
            metadata={
                "ask_id": row["ask_id"],
                "topic": row["topic"],
                "subcategories": row["subcategories"],
                "related_ask_ids": row["related_ask_ids"],
            },
        )


def financebench(folder: Path) -> Iterator[ParsedDocument]:
    """One document per filing, one block per page (zero-based, as the questions cite them)."""
    info = {row["doc_name"]: row for row in _jsonl(folder / "document_information.jsonl")}
    pages = _jsonl(folder / "corpus_pages.jsonl.xz")
    for doc_name, group in groupby(pages, key=lambda page: page["doc_name"]):
        meta = info.get(doc_name, {})
        kind = str(meta.get("doc_type", "")).upper().replace("10K", "10-K").replace("10Q", "10-Q")
        title = " ".join(str(part) for part in (meta.get("company"), kind, meta.get("doc_period")) if part)
        blocks = [
            Block(paragraph, page=page["page_num"])
            for page in group
            for paragraph in _paragraphs(page["text"])
        ]
        yield ParsedDocument(
            external_id=doc_name,
            title=title or doc_name,
            blocks=blocks,
            metadata={
                key: meta[key] for key in ("company", "gics_sector", "doc_type", "doc_period") if key in meta
            },
        )


def fincen_advisories(folder: Path) -> Iterator[ParsedDocument]:
    """One document per FinCEN advisory, alert or withdrawal, effective from its date."""
    pages = _jsonl(folder / "pages.jsonl.gz")
    for doc_id, grouped in groupby(pages, key=lambda page: page["doc_id"]):
        group = list(grouped)
        first = group[0]
        yield ParsedDocument(
            external_id=doc_id,
            title=first["title"],
            blocks=[
                Block(paragraph, page=page["page_num"])
                for page in group
                for paragraph in _paragraphs(page["text"])
            ],
            metadata={"date": _iso(first["date"]), "source_url": first["source_url"]},
        )


def _iso(us_date: str) -> str:
    return datetime.strptime(us_date, "%m/%d/%Y").date().isoformat()


@dataclass(frozen=True)
class Dataset:
    folder: str
    collection: str
    description: str
    load: Callable[[Path], Iterator[ParsedDocument]]
    required: tuple[str, ...]

    def path(self) -> Path:
        path = settings.DATASETS_DIR / self.folder
        missing = [name for name in self.required if not (path / name).is_file()]
        if missing:
            raise ApplicationError(
                f"dataset {self.folder} not found: {path} lacks {', '.join(missing)} "
                "(set FINASSIST_DATASETS_DIR to the folder that holds the datasets)"
            )
        return path

    def effective_from(self, document: ParsedDocument) -> date | None:
        stamp = document.metadata.get("date")
        return date.fromisoformat(stamp) if stamp else None


DATASETS = {
    "ask_cfpb": Dataset(
        "ask_cfpb",
        "ask-cfpb",
        "Ask CFPB consumer-finance answers (public domain)",
        ask_cfpb,
        ("kb_answers.jsonl",),
    ),
    "financebench": Dataset(
        "financebench",
        "financebench",
        "FinanceBench company filings, page by page (CC BY-NC 4.0)",
        financebench,
        ("corpus_pages.jsonl.xz", "document_information.jsonl"),
    ),
    "fincen_advisories": Dataset(
        "fincen_advisories",
        "fincen",
        "FinCEN advisories and alerts (U.S. government work)",
        fincen_advisories,
        ("pages.jsonl.gz",),
    ),
}


def eval_queries(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A dataset's questions in the evaluation format, with a stable key for splitting."""
    if name == "ask_cfpb":
        import html

        for row in _jsonl(DATASETS[name].path() / "questions_train.jsonl"):
            query = html.unescape(html.unescape(row["question"]))
            relevant = [f"ask-cfpb-{ask_id}" for ask_id in row["relevant_ask_ids"]]
            yield str(row["ask_id"]), {"query": query, "relevant": relevant}
    elif name == "financebench":
        path = DATASETS[name].path()
        for row in _jsonl(path / "questions_dev.jsonl"):
            if not row.get("doc_in_corpus"):
                continue
            relevant = sorted({f"{e['doc_name']}#p{e['evidence_page_num']}" for e in row["evidence"]})
            yield row["financebench_id"], {"query": row["question"], "relevant": relevant}
    else:
        raise ApplicationError(f"no questions for {name}: ask_cfpb and financebench have them")


def split_of(key: str) -> str:
    """A fixed half of the questions tunes the search; the other half reports on it."""
    return "validation" if hashlib.sha256(key.encode()).digest()[0] % 2 == 0 else "test"


def eval_split(name: str, split: str = "all") -> list[dict[str, Any]]:
    """A dataset's questions in one split (all, validation or test), in evaluation format."""
    return [row for key, row in eval_queries(name) if split in ("all", split_of(key))]
