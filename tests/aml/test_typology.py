"""Typology labels and red-flag passages derived from FinCEN advisories, split by document."""

from collections import Counter

import pytest
from django.conf import settings

from aml.typology import LABELS, NONE, TYPOLOGY_LABELS, Page, documents_labelled, pages_read, passages_derive
from assistant.training.registry import task_get

BOILERPLATE = (
    "Questions regarding the contents of this advisory should be sent to the FinCEN Resource Center."
)


def advisory(doc_id: str, subject: str, *body: str) -> list[Page]:
    return [Page(doc_id, 0, f"FIN-2020-A001 Advisory on {subject}\n\n{BOILERPLATE}"), *(
        Page(doc_id, number, text) for number, text in enumerate(body, start=1)
    )]  # fmt: skip


ELDER = "Elder Financial Exploitation"
FATF = "FATF-Identified Jurisdictions with AML and Combating the Financing of Terrorism Deficiencies"
PAGES = [
    *advisory("elder-1", ELDER, "An elderly customer suddenly wires funds to a new friend abroad."),
    *advisory("elder-2", f"{ELDER} by Caregivers", "A caregiver withdraws cash from the account daily."),
    *advisory(
        "fatf-1", FATF, "Transactions with the listed jurisdictions deserve due diligence on accounts."
    ),
    *advisory("ops-1", "Promoting a Culture of Compliance", "Leadership should support compliance."),
    Page(
        "withdrawn-1",
        0,
        "Advisory Withdrawal: this advisory is withdrawn. Funds transfers are not restricted.",
    ),
]


def test_documents_are_labelled_by_their_subject_with_the_first_matching_rule():
    labels = {item.doc_id: item.label for item in documents_labelled(PAGES)}

    assert labels == {
        "elder-1": "elder_exploitation",
        "elder-2": "elder_exploitation",
        "fatf-1": "high_risk_jurisdiction",  # not terrorist financing, which its subject also names
        "ops-1": None,
        "withdrawn-1": None,
    }


def test_passages_keep_money_sentences_and_drop_boilerplate_and_unlabelled_documents():
    passages = passages_derive(
        [
            *PAGES,
            *advisory(
                "elder-3",
                "Elder Abuse",
                "A new joint holder moved the savings into his own account overnight.",
            ),
        ]
    )

    texts = " ".join(p.text for p in passages)
    assert "wires funds to a new friend abroad" in texts
    assert BOILERPLATE not in texts  # found in three or more documents
    assert "support compliance" not in texts
    assert {p.doc_id for p in passages} == {"elder-1", "elder-2", "elder-3", "fatf-1"}


def test_no_document_is_in_both_splits_and_a_label_with_two_documents_has_one_in_test():
    passages = passages_derive(PAGES)

    splits = {p.doc_id: {q.split for q in passages if q.doc_id == p.doc_id} for p in passages}
    assert all(len(s) == 1 for s in splits.values())
    elder = Counter(next(iter(splits[d])) for d in ("elder-1", "elder-2"))
    assert elder == {"train": 1, "test": 1}
    assert splits["fatf-1"] == {"train"}  # a label's only document trains


@pytest.mark.skipif(
    not (settings.DATASETS_DIR / "fincen_advisories").is_dir(),
    reason="the shared datasets folder is not here",
)
def test_the_fincen_advisories_give_passages_for_every_label_and_a_clean_document_split():
    passages = passages_derive(pages_read(settings.DATASETS_DIR / "fincen_advisories" / "pages.jsonl.gz"))

    assert {p.label for p in passages} == set(LABELS)
    train = {p.doc_id for p in passages if p.split == "train"}
    test = {p.doc_id for p in passages if p.split == "test"}
    assert train
    assert test
    assert not train & test


def test_the_typology_task_is_registered_for_the_fine_tuning_platform():
    spec = task_get("aml-typology")

    assert spec.labels == TYPOLOGY_LABELS == (*LABELS, NONE)
