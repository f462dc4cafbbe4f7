"""The risk calibration of a typology model version for the rules as set: fitted on a worker, read
by screening.

A worker fits it when an `aml-typology` version is activated (the task's `prepare`) and when a rule
is edited (`aml.calibrate`). A screening only reads it: one that finds none for the version and the
rules as set now is refused with 503 until the worker is done.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction

from aml.models import RiskCalibration, Rule
from aml.risk import calibration_fit, rules_digest
from assistant.db.constraints import violated_constraint
from assistant.training.inference import ModelNotReady
from assistant.training.models import ModelVersion


def risk_calibration(version: ModelVersion, rules: Sequence[Rule]) -> RiskCalibration:
    """The stored fit for this model version and these rule settings; ModelNotReady until there is one."""
    stored = RiskCalibration.objects.filter(model_version=version, rules_digest=rules_digest(rules)).first()
    if stored is None:
        raise ModelNotReady(
            f"the risk calibration of aml-typology version {version.pk} for the rules as set now is not "
            "fitted yet: a worker fits it when a version is activated or a rule changes",
            field="aml-typology",
        )
    return stored


def risk_calibrated(version: ModelVersion) -> bool:
    """Whether the version has its fit for the rules as set now."""
    digest = rules_digest(list(Rule.objects.all()))
    return RiskCalibration.objects.filter(model_version=version, rules_digest=digest).exists()


def risk_calibration_fit(version: ModelVersion, rules: Sequence[Rule] | None = None) -> RiskCalibration:
    """The fit for this version and the rules as set (or `rules`), fitted and stored first if there
    is none. Safe to run twice, and from two workers at once."""
    rules = list(Rule.objects.all()) if rules is None else rules
    stored = RiskCalibration.objects.filter(model_version=version, rules_digest=rules_digest(rules)).first()
    if stored is not None:
        return stored
    fitted = calibration_fit(version, rules)
    try:
        with transaction.atomic():
            fitted.save()
    except IntegrityError as error:
        # Another worker fitted the same combination first: use theirs.
        if violated_constraint(error) != "risk_calibration_unique":
            raise
        return RiskCalibration.objects.get(model_version=version, rules_digest=fitted.rules_digest)
    return fitted
