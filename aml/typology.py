"""Typology labels for AML text, derived from FinCEN's advisories.

Each FinCEN advisory or alert is about one typology or scheme, named in its subject line. The
taxonomy below maps subject-line keywords to a label (the first rule that matches wins, so the
more specific rules come first); a document no rule matches (withdrawal notices, compliance
guidance, FAQs) is left out, with the reason kept.

From each labelled document, red-flag passages are cut: its sentences that describe money
moving (transactions, accounts, wires, cash, payments...) or call something suspicious, grouped
in runs of up to PASSAGE_CHARS characters. Sentences found in three or more documents are
boilerplate (SAR filing instructions, contact details) and are dropped.

The split is by document, so no advisory is in both train and test: within each label, documents
ordered by a hash of their id, the last quarter (at least one) goes to test; a label with a single
document has no test document.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext_noop

from assistant.training.registry import Example

# (label, description, subject keywords); order matters: the first match wins (FATF's lists
# name "the financing of terrorism" in every subject, so the jurisdiction rule comes before it).
TAXONOMY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("elder_exploitation", gettext_noop("elder financial exploitation"), ("elder",)),
    (
        "human_trafficking",
        gettext_noop("human trafficking and smuggling"),
        ("human trafficking", "human smuggling"),
    ),
    (
        "high_risk_jurisdiction",
        gettext_noop("jurisdictions with AML/CFT deficiencies"),
        ("financial action task force", "fatf", "transactions involving", "uzbekistan", "turkish cypriot"),
    ),
    ("terrorist_financing", gettext_noop("financing of terrorism"), ("terroris", "isis", "islamic state")),
    (
        "cybercrime",
        gettext_noop("ransomware, cyber-events and virtual currency"),
        ("ransomware", "cyber", "virtual currency", "account takeover"),
    ),
    (
        "drug_trafficking",
        gettext_noop("narcotics proceeds, bulk cash and the networks that launder them"),
        ("fentanyl", "narcotic", "bulk currency", "transnational criminal", "funnel account", "mexic"),
    ),
    ("trade_based_laundering", gettext_noop("trade-based money laundering"), ("trade-based", "tbml")),
    (
        "sanctions_evasion",
        gettext_noop("sanctions evasion and proliferation finance"),
        ("iran", "north korea", "dprk", "syria", "transnistria", "weapons", "sanction"),
    ),
    (
        "corruption",
        gettext_noop("proceeds of foreign corruption and kleptocracy"),
        (
            "corrupt",
            "kleptocra",
            "political figure",
            "politically exposed",
            "recent events in",
            "yanukovych",
            "citizenship",
            "venezuela",
            "nicaragua",
        ),
    ),
    (
        "fraud",
        gettext_noop("fraud schemes: scams, impostors, mules, loans, benefits, e-mail compromise"),
        (
            "fraud",
            "scam",
            "imposter",
            "impostor",
            "money mule",
            "email compromise",
            "e-mail compromise",
            "foreclosure",
            "loan modification",
            "economic impact payment",
        ),
    ),
    ("structuring", gettext_noop("structuring to evade reporting"), ("structuring",)),
)
# The typology classifier, as registered on the fine-tuning platform (`aml.learning`).
TYPOLOGY = "aml-typology"
LABELS = tuple(label for label, _, _ in TAXONOMY)
# Ordinary activity: no advisory describes it, the synthetic narratives have it (aml.synthetic).
NONE = "none"
TYPOLOGY_LABELS = (*LABELS, NONE)
DESCRIPTIONS = {label: description for label, description, _ in TAXONOMY} | {
    NONE: gettext_noop("no typology: ordinary activity")
}
SUBJECT_CHARS = 700
PASSAGE_CHARS = 500
MIN_SENTENCE_CHARS = 40
BOILERPLATE_DOCUMENTS = 3
TEST_EVERY = 4
MONEY_WORDS = re.compile(
    r"\b(transaction|transfer|wire|account|deposit|withdraw|cash|payment|fund|remittance|check|"
    r"cheque|invoice|shell compan|front compan|red flag|indicator|suspicious|unusual|structur|"
    r"launder|proceeds|beneficial owner|prepaid|virtual currenc)",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"])")
WITHDRAWAL = re.compile(r"\bwithdraw(al|n)\b.{0,40}\badvisor", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    doc_id: str
    page: int
    text: str


@dataclass(frozen=True)
class Labelled:
    doc_id: str
    label: str | None
    reason: str  # the keyword that matched, or why the document is left out


@dataclass(frozen=True)
class Passage:
    doc_id: str
    label: str
    text: str
    split: str  # "train" or "test"


def pages_read(path: Path) -> list[Page]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [Page(row["doc_id"], int(row["page_num"]), row["text"]) for row in rows]


def _normal(text: str) -> str:
    return " ".join(text.split())


def document_label(first_page: str) -> tuple[str | None, str]:
    """The label of a document from its subject (the start of its first page), and why."""
    subject = _normal(first_page)[:SUBJECT_CHARS].lower()
    if WITHDRAWAL.search(subject) or "rescinded" in subject[:200]:
        return None, "a withdrawal or rescinded notice"
    for label, _, keywords in TAXONOMY:
        for keyword in keywords:
            if keyword in subject:
                return label, f"subject names {keyword!r}"
    return None, "no typology named in the subject"


def documents_labelled(pages: Sequence[Page]) -> list[Labelled]:
    first = {p.doc_id: p.text for p in sorted(pages, key=lambda p: p.page, reverse=True)}
    return [Labelled(doc_id, *document_label(text)) for doc_id, text in sorted(first.items())]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(_normal(text)) if len(s.strip()) >= MIN_SENTENCE_CHARS]


def _hash(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:8], "big")


def document_splits(labelled: Iterable[Labelled]) -> dict[str, str]:
    """doc_id -> "train" or "test", stratified by label, never splitting a document."""
    by_label: dict[str, list[str]] = defaultdict(list)
    for item in labelled:
        if item.label is not None:
            by_label[item.label].append(item.doc_id)
    splits = {}
    for documents in by_label.values():
        ordered = sorted(documents, key=_hash)
        tested = max(1, len(ordered) // TEST_EVERY) if len(ordered) > 1 else 0
        for position, doc_id in enumerate(ordered):
            splits[doc_id] = "test" if position >= len(ordered) - tested else "train"
    return splits


def passages_derive(pages: Sequence[Page]) -> list[Passage]:
    """Red-flag passages of every labelled document, with the document's label and split."""
    labelled = {item.doc_id: item for item in documents_labelled(pages)}
    splits = document_splits(labelled.values())
    sentences: dict[str, list[str]] = defaultdict(list)
    for page in sorted(pages, key=lambda p: (p.doc_id, p.page)):
        if labelled[page.doc_id].label is not None:
            sentences[page.doc_id].extend(_sentences(page.text))
    spread = Counter(s for doc_sentences in sentences.values() for s in set(doc_sentences))
    passages = []
    for doc_id, doc_sentences in sentences.items():
        kept = [s for s in doc_sentences if spread[s] < BOILERPLATE_DOCUMENTS and MONEY_WORDS.search(s)]
        for text in _runs(kept):
            passages.append(Passage(doc_id, labelled[doc_id].label or "", text, splits[doc_id]))
    return passages


def _runs(sentences: Sequence[str]) -> list[str]:
    runs, current = [], ""
    for sentence in sentences:
        if current and len(current) + 1 + len(sentence) > PASSAGE_CHARS:
            runs.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    if current:
        runs.append(current)
    return runs


def examples_of(passages: Iterable[Passage], split: str) -> list[Example]:
    return [Example(p.text, p.label) for p in passages if p.split == split]
