"""The typology classifier (`aml-typology`), trained through the fine-tuning platform, and its labels.

It learns from three sources:
- red-flag passages of FinCEN advisories, the train split by document (`aml.typology`), read from
  the datasets folder and never copied here; without that folder it trains on the other two;
- synthetic transaction narratives (`aml.synthetic`, seeded), every typology and
  ordinary activity (`none`), since no public labelled narratives exist;
- analysts: each decided case is a labelled example (its narrative or document and the typology
  the analyst settled on, `none` for a case closed as ordinary activity).
"""

from __future__ import annotations

import logging

from django.conf import settings

from aml.models import Case
from aml.services.calibration import risk_calibrated
from aml.services.screening import typology_prepare
from aml.typology import TYPOLOGY, TYPOLOGY_LABELS, examples_of, pages_read, passages_derive
from assistant.core.errors import ApplicationError
from assistant.training.registry import Example, TaskSpec

logger = logging.getLogger("finassist.aml")

GENERATED_NARRATIVES = 2400
NARRATIVE_SEED = 5


def advisory_passages(split: str) -> list[Example]:
    """FinCEN advisories' red-flag passages of one split (`train` or `test`)."""
    path = settings.DATASETS_DIR / "fincen_advisories" / "pages.jsonl.gz"
    if not path.is_file():
        raise ApplicationError(f"no FinCEN advisories at {path}", field="data")
    return examples_of(passages_derive(pages_read(path)), split)


def analyst_examples() -> list[Example]:
    decided = Case.objects.exclude(decision="").exclude(typology="")
    cases = decided.select_related("alert__screening__transaction")
    examples = (Example(case.alert.screening.screened_text, case.typology) for case in cases)
    return [example for example in examples if example.text.strip()]


def typology_examples() -> list[Example]:
    from aml.synthetic import narratives

    try:
        advisories = advisory_passages("train")
    except ApplicationError as error:
        logger.warning("%s: aml-typology trains on generated narratives and analysts' labels", error.message)
        advisories = []
    return advisories + narratives(GENERATED_NARRATIVES, NARRATIVE_SEED) + analyst_examples()


TYPOLOGY_TASK = TaskSpec(
    name=TYPOLOGY,
    labels=TYPOLOGY_LABELS,
    examples=typology_examples,
    description="The money-laundering typology a narrative or document describes, or none.",
    # Advisory passages run to about 110 tokens, within max_tokens. Four epochs beat two on the
    # held-out narratives and match them on the advisories (docs/aml.md, Measured).
    defaults={"max_tokens": 128, "epochs": 4},
    quantized=True,
    prepare=typology_prepare,
    prepared=risk_calibrated,
)
