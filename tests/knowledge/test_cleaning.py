from assistant.knowledge.cleaning import cleaned_blocks, cleaned_text
from assistant.knowledge.parsers import Block

BODY = [
    "Banks should watch for structured cash deposits.",
    "Funds moved through several accounts in one day are a red flag.",
    "Report suspicious activity within 30 days of detection.",
    "Shell companies often share an address.",
    "Wire transfers to high-risk jurisdictions need review.",
]


def test_letter_spaced_runs_close_up() -> None:
    assert cleaned_text("F I N C E N  advisory on C A R E S payments") == "FINCEN advisory on CARES payments"


def test_short_words_stay_apart() -> None:
    assert cleaned_text("I am a client of A and B.") == "I am a client of A and B."


def test_ligatures_missing_glyphs_and_bullets() -> None:
    text = (
        "The \ufb01rst of\ufffd\ue021 many \ufb02ags:\n"
        "\u2022 cash deposits \u2022 wire transfers\n\uf0b7 shell companies"
    )
    assert (
        cleaned_text(text) == "The first of many flags:\n- cash deposits\n- wire transfers\n- shell companies"
    )


def test_run_together_sentences_part_and_broken_words_join() -> None:
    text = (
        "It cannot take more than 90 days.If the issuer finds no error, it must tell you.\n"
        "The infor-\nmation is kept."
    )
    assert cleaned_text(text) == (
        "It cannot take more than 90 days. If the issuer finds no error, it must tell you.\n"
        "The information is kept."
    )


def test_abbreviations_and_addresses_are_left_alone() -> None:
    text = "The U.S. Treasury (see consumerfinance.gov) pays 3.5% a year, e.g. on bonds."
    assert cleaned_text(text) == text


def test_running_headers_footers_and_page_numbers_are_removed() -> None:
    blocks = [
        Block(
            f"F I N C E N A D V I S O R Y\nFIN-2021-A00{page}\n{BODY[page]}\nSee section {page + 2}.\n"
            f"More on page {page}: {BODY[(page + 1) % 5]}\nA closing line {page}x.\n{page + 1}",
            page=page,
        )
        for page in range(5)
    ]
    cleaned = cleaned_blocks(blocks)
    text = "\n".join(block.text for block in cleaned)
    assert "FINCEN" not in text
    assert "FIN-2021" not in text
    assert not any(line.isdigit() for line in text.splitlines())
    assert all(sentence in text for sentence in BODY)
    assert [block.page for block in cleaned] == [0, 1, 2, 3, 4]


def test_numbers_inside_a_page_and_short_documents_are_kept() -> None:
    table = Block("Revenue\n2019\n1,204\n2020\n1,377\nNet income\n2019\n210\n2020\n254", page=0)
    assert cleaned_blocks([table]) == [Block(table.text.replace("\n", " "), page=0)]
    heading = [Block("Northbridge Bank\nSummary of fees", page=page) for page in range(2)]
    assert cleaned_blocks(heading) == [
        Block("Northbridge Bank Summary of fees", page=page) for page in range(2)
    ]


def test_unpaged_blocks_keep_their_lines_and_empty_blocks_go() -> None:
    blocks = [Block("Costs\n2", heading="Costs"), Block("\ufffd\ufffd")]
    assert cleaned_blocks(blocks) == [Block("Costs\n2", heading="Costs")]
