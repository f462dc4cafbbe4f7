"""The typology model for AML tests: trained once per session (the real MiniLM, LoRA, on a few
hundred generated narratives) with its risk calibration for the shipped rules, then registered
afresh, active, in each test's database."""

from __future__ import annotations

import csv
import importlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import override_settings

from aml.models import RiskCalibration, Rule
from aml.risk import calibration_fit
from aml.synthetic import narratives
from aml.typology import TYPOLOGY
from assistant.training import inference
from assistant.training.inference import active_forget
from assistant.training.models import ModelVersion

SHIPPED_RULES = importlib.import_module("aml.migrations.0003_rules").RULES
TRAINING_NARRATIVES = 520


@pytest.fixture(scope="session")
def typology_artefacts(tmp_path_factory, django_db_setup, django_db_blocker) -> dict[str, dict[str, Any]]:
    from assistant.training.services import run_execute, run_submit

    directory = tmp_path_factory.mktemp("aml-models")
    data = directory / "narratives.csv"
    with data.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("text", "label"))
        writer.writerows(narratives(TRAINING_NARRATIVES, 3))
    with django_db_blocker.unblock(), override_settings(MODELS_DIR=directory):
        run = run_execute(
            run_submit(
                task=TYPOLOGY, options={"epochs": 3, "max_tokens": 64}, data_file=data, dispatch=False
            ).pk
        )
        version = run.model_version
        active_forget(TYPOLOGY)
        version.status = ModelVersion.Status.ACTIVE
        version.save(update_fields=["status"])
        calibration = calibration_fit(version, [Rule(**row) for row in SHIPPED_RULES])
        artefacts = {
            "version": model_to_dict(version, exclude=["id", "run"]),
            "calibration": model_to_dict(calibration, exclude=["id", "model_version"]),
        }
        version.delete()
        run.delete()
        active_forget(TYPOLOGY)
    return artefacts


@pytest.fixture
def typology_model(typology_artefacts, rules, db) -> Iterator[Callable[[], ModelVersion]]:
    """Activate the typology model (and its calibration for the shipped rules) in this test's database."""

    def activate() -> ModelVersion:
        ModelVersion.objects.filter(task=TYPOLOGY).delete()
        version = ModelVersion.objects.create(
            **{
                **typology_artefacts["version"],
                "abstain_threshold": 0.0,
                "status": ModelVersion.Status.ACTIVE,
            }
        )
        RiskCalibration.objects.create(model_version=version, **typology_artefacts["calibration"])
        active_forget(TYPOLOGY)
        return version

    yield activate
    active_forget(TYPOLOGY)
    inference._pending.clear()
