"""Analysts' decisions become labelled examples of the typology task."""

from __future__ import annotations

import pytest

from aml.learning import analyst_examples, typology_examples
from aml.services.cases import alert_take_next, case_decide
from aml.typology import NONE
from assistant.training.registry import Example
from tests.aml.conftest import DOCUMENT, NARRATIVE

pytestmark = pytest.mark.django_db


def test_decided_cases_are_examples_with_the_analysts_typology(analyst, raise_alert):
    raise_alert(0.9)
    raise_alert(0.7, document="review.txt")
    raise_alert(0.6)
    escalated, closed, undecided = (alert_take_next(analyst=analyst).case for _ in range(3))

    case_decide(
        case=escalated, analyst=analyst, decision="escalated", reason="split deposits", typology="structuring"
    )
    case_decide(case=closed, analyst=analyst, decision="closed", reason="a known supplier", typology=NONE)

    examples = analyst_examples()
    assert Example(NARRATIVE, "structuring") in examples
    assert Example(DOCUMENT, NONE) in examples
    assert len(examples) == 2  # the undecided case teaches nothing
    assert undecided.decision == ""
    assert set(examples) <= set(typology_examples())
