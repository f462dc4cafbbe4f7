"""Claims fixtures: the three claims classifiers trained once per session (the real MiniLM, LoRA, on a
few hundred generated claims) and registered afresh, active, in each test's database; an
integrating system with an API key; the demo policies."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.test import override_settings

from assistant.core import roles
from assistant.integrations.keys import api_key_issue
from assistant.integrations.models import System
from assistant.training import inference
from assistant.training.inference import active_forget
from assistant.training.models import ModelVersion
from claims.demo import POLICIES, synthetic_claim_input, synthetic_policies_store
from claims.learning import FRAUD, LINE_OF_BUSINESS, ROUTE, fraud_label
from claims.models import FraudCalibration, Policy
from claims.services.calibration import fraud_calibrate
from claims.services.submission import claims_submit
from claims.services.triage import claim_triage
from claims.synthetic import generate

TRAINING_CLAIMS = 360
TASKS = (LINE_OF_BUSINESS, ROUTE, FRAUD)
CALIBRATION = "fraud-calibration"


def _training_file(directory: Path, task: str) -> Path:
    claims = generate(TRAINING_CLAIMS, seed=3)[1]
    columns, rows = {
        LINE_OF_BUSINESS: (
            ("question", "line_of_business"),
            [(c.description, c.line_of_business) for c in claims],
        ),
        ROUTE: (("description", "route"), [(c.description, c.route) for c in claims]),
        FRAUD: (("description", "label"), [(c.description, fraud_label(c.suspicious)) for c in claims]),
    }[task]
    path = directory / f"{task}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def claims_artefacts(tmp_path_factory, django_db_setup, django_db_blocker) -> dict[str, dict[str, Any]]:
    """Each task's trained version (and the fraud version's fitted combination), as field values."""
    from assistant.training.services import run_execute, run_submit

    directory = tmp_path_factory.mktemp("claims-models")
    artefacts = {}
    with django_db_blocker.unblock(), override_settings(MODELS_DIR=directory):
        for task in TASKS:
            data = _training_file(directory, task)
            run = run_submit(
                task=task, options={"epochs": 3, "max_tokens": 128}, data_file=data, dispatch=False
            )
            run = run_execute(run.pk)
            version = run.model_version
            artefacts[task] = model_to_dict(version, exclude=["id", "run"])
            if task == FRAUD:
                calibration = fraud_calibrate(version)
                artefacts[CALIBRATION] = model_to_dict(calibration, exclude=["id", "model_version"])
            version.delete()
            run.delete()
    return artefacts


@pytest.fixture
def claims_models(claims_artefacts, db) -> Iterator[Callable[..., dict[str, ModelVersion]]]:
    """Activate the claims classifiers (all, or those named) in this test's database."""

    def activate(*tasks: str) -> dict[str, ModelVersion]:
        versions = {}
        for task in tasks or TASKS:
            ModelVersion.objects.filter(task=task).delete()
            versions[task] = ModelVersion.objects.create(
                **{**claims_artefacts[task], "abstain_threshold": 0.0, "status": ModelVersion.Status.ACTIVE}
            )
            active_forget(task)
        if FRAUD in versions:
            FraudCalibration.objects.create(model_version=versions[FRAUD], **claims_artefacts[CALIBRATION])
        return versions

    yield activate
    for task in TASKS:
        active_forget(task)
    inference._pending.clear()


@pytest.fixture
def policies(db) -> dict[str, Policy]:
    return {row["number"]: Policy.objects.create(**row) for row in POLICIES}


def system_with_key(name: str, scopes: list[str] | None = None) -> tuple[System, str]:
    system = System.objects.create(name=name)
    _, text = api_key_issue(system=system, name="test", scopes=scopes or ["claims:read", "claims:write"])
    return system, text


@pytest.fixture
def claims_system(db) -> tuple[System, str]:
    return system_with_key("claims-core")


@pytest.fixture
def adjuster(django_user_model):
    user = django_user_model.objects.create_user("cal", password="pw")
    user.groups.add(Group.objects.get(name=roles.CLAIMS_ADJUSTER))
    return user


@pytest.fixture
def triaged(claims_models, claims_system):
    claims_models()
    policies, generated = generate(3, seed=8)
    synthetic_policies_store(policies)
    items = [synthetic_claim_input(c) for c in generated]
    return [claim_triage(c.pk) for c in claims_submit(system=claims_system[0], items=items, batch=True)]
