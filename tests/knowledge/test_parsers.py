"""Each format goes in with its headings and pages; each bad file is refused with its reason."""

import dataclasses
import json

import pytest

from assistant.knowledge.parsers import ParseLimits, RejectedFile
from assistant.knowledge.sandbox import parse_isolated
from tests.support.documents import docx, docx_bomb, pdf

LIMITS = ParseLimits(
    max_bytes=1_000_000,
    max_expanded_bytes=4_000_000,
    max_pages=10,
    max_blocks=500,
    max_seconds=60,
    max_memory_mb=1024,
)


def parse_file(name: str, data: bytes, **limits: float) -> list:
    """The production path: a container parsed in its own process, under the limits."""
    return parse_isolated(name, data, limits=dataclasses.replace(LIMITS, **limits))


def blocks(name: str, data: bytes) -> list[tuple[str, str, int | None]]:
    (document,) = parse_file(name, data)
    return [(block.heading, block.text, block.page) for block in document.blocks]


def test_plain_text_is_split_into_paragraphs():
    (document,) = parse_file("notes/fees_2026.txt", b"First paragraph\nstill first.\n\nSecond one.\n")

    assert document.title == "fees 2026"
    assert [block.text for block in document.blocks] == ["First paragraph still first.", "Second one."]


def test_markdown_keeps_the_heading_path_and_takes_its_title_from_the_first_heading():
    text = (
        b"# Fund guide\n\nIntro.\n\n## Costs\n\nCharge 0.2%.\n\n"
        b"### Hidden costs\n\nSpreads.\n\n## Risk\n\nFalls.\n"
    )

    assert parse_file("guide.md", text)[0].title == "Fund guide"
    assert blocks("guide.md", text) == [
        ("", "Intro.", None),
        ("Costs", "Charge 0.2%.", None),
        ("Costs > Hidden costs", "Spreads.", None),
        ("Risk", "Falls.", None),
    ]


def test_html_keeps_headings_and_drops_scripts_and_navigation():
    page = (
        b"<html><head><title>Rates note</title><script>var x = 1;</script></head><body>"
        b"<nav>Home | About</nav><h2>Outlook</h2><p>Cuts are &amp; will be gradual.</p>"
        b"<ul><li>Bonds gain.</li><li>Savers lose.</li></ul></body></html>"
    )
    (document,) = parse_file("note.html", page)

    assert document.title == "Rates note"
    assert [(b.heading, b.text) for b in document.blocks] == [
        ("Outlook", "Cuts are & will be gradual."),
        ("Outlook", "Bonds gain."),
        ("Outlook", "Savers lose."),
    ]


def test_pdf_text_layer_keeps_zero_based_page_numbers():
    data = pdf(["Annual report 2025\n\nRevenue rose 4%.", "Outlook for 2026."])

    assert blocks("report.pdf", data) == [
        ("", "Annual report 2025\nRevenue rose 4%.", 0),
        ("", "Outlook for 2026.", 1),
    ]


def test_docx_keeps_heading_styles_and_tables():
    data = docx("Fund guide", {"Costs": ["The charge is 0.2%."]}, table=[["Fee", "Rate"], ["Entry", "none"]])
    (document,) = parse_file("guide.docx", data)

    assert document.title == "Fund guide"
    assert [(b.heading, b.text) for b in document.blocks] == [
        ("Costs", "The charge is 0.2%."),
        ("Costs", "Fee | Rate"),
        ("Costs", "Entry | none"),
    ]


def test_faq_csv_gives_one_document_per_question():
    data = b"id,question,answer,topic\ncard-lost,Lost card?,Freeze it in the app.,cards\n,Fees?,None.,fees\n"
    documents = parse_file("faq.csv", data)

    assert [(d.external_id, d.title, d.blocks[0].text) for d in documents] == [
        ("card-lost", "Lost card?", "Freeze it in the app."),
        ("faq-2", "Fees?", "None."),
    ]
    assert documents[0].metadata == {"faq_source": "faq.csv", "topic": "cards"}


def test_faq_jsonl_gives_one_document_per_question():
    data = "\n".join(
        json.dumps(row)
        for row in ({"question": "A?", "answer": "Yes."}, {"id": "b", "question": "B?", "answer": "No."})
    )

    assert [d.external_id for d in parse_file("faq.jsonl", data.encode())] == ["faq-1", "b"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("photo.png", b"\x89PNG....", "unsupported format .png"),
        ("big.txt", b"x" * 1_000_001, "over the limit of 1,000,000 (FINASSIST_UPLOAD_MAX_BYTES)"),
        ("empty.md", b"  \n\n ", "the file is empty"),
        ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf", "not a readable PDF"),
        ("scan.pdf", pdf([""]), "no text found"),
        ("broken.docx", b"PK\x03\x04 not a zip", "not a readable DOCX"),
        ("binary.txt", b"abc\x00\x01\x02def", "binary content where text was expected"),
        ("faq.csv", b"q,a\nx,y\n", "needs the columns question and answer"),
        ("faq.csv", b"question,answer\nWhy?,\n", "row 2 needs both a question and an answer"),
        ("faq.jsonl", b'{"question": "A?", "answer": "B"}\n{oops\n', "line 2 is not JSON"),
        (
            "faq.jsonl",
            b'{"id": "x", "question": "A?", "answer": "B"}\n{"id": "x", "question": "C?", "answer": "D"}',
            "repeats the id 'x'",
        ),
        ("late-nul.txt", b"a" * 9000 + b"\x00b", "block 1 contains a NUL character"),
        ("late-nul.html", b"<p>" + b"a" * 9000 + b"\x00</p>", "block 1 contains a NUL character"),
        (
            "faq.jsonl",
            b'{"question": "A\\ud83d?", "answer": "B"}',
            "faq-1: the title contains a lone surrogate",
        ),
        (
            "faq.jsonl",
            b'{"question": "A?", "answer": "B", "tag": "x\\u0000"}',
            "faq-1: the field tag contains a NUL character",
        ),
        (
            "deep.jsonl",
            b'{"question": "A?", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "line 1 nests too deep",
        ),
        ("long.txt", b"\n\n".join([b"paragraph"] * 501), "501 blocks of text is over the limit of 500"),
        ("long.pdf", pdf(["page"] * 11), "11 pages is over the limit of 10 (FINASSIST_PARSE_MAX_PAGES)"),
        (
            "bomb.docx",
            docx_bomb(5_000_000),
            "over the limit of 4,000,000 (FINASSIST_PARSE_MAX_EXPANDED_BYTES)",
        ),
        ("bad-xml.docx", docx_bomb(100, body=b"<w:body><w:p>unclosed"), "not a readable DOCX"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_and_reason(name, data, reason):
    with pytest.raises(RejectedFile) as refused:
        parse_file(name, data)

    assert refused.value.name == name
    assert reason in refused.value.reason
    assert str(refused.value).startswith(f"{name}: ")


def test_windows_1252_text_is_read():
    assert blocks("old.txt", b"Caf\xe9 prices \x80 5") == [("", "Café prices € 5", None)]


def test_a_container_that_takes_too_long_to_parse_is_refused():
    with pytest.raises(RejectedFile) as refused:
        parse_file("slow.docx", docx("Title", {"A": ["text"]}), max_seconds=0.05)

    assert refused.value.reason == "parsing took longer than 0.05 s (FINASSIST_PARSE_MAX_SECONDS)"


def test_a_container_that_needs_too_much_memory_is_refused():
    with pytest.raises(RejectedFile) as refused:
        parse_file(
            "huge.docx", docx_bomb(300_000_000), max_bytes=10**7, max_expanded_bytes=10**9, max_memory_mb=200
        )

    assert refused.value.reason == "parsing needed more than 200 MB of memory (FINASSIST_PARSE_MAX_MEMORY_MB)"
