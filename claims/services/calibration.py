"""The fraud combination: a text-model version's reading and the structured red flags, fitted together.

A worker fits it when a `claims-fraud` version is activated (the task's `prepare`); triage reads
it and never fits it: a version whose combination is not there yet is not ready to serve.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from assistant.training.inference import ModelNotReady
from assistant.training.models import ModelVersion
from claims import fraud
from claims.extraction import extract
from claims.models import FraudCalibration

logger = logging.getLogger("finassist.claims")


def fraud_weights(version_id: int) -> fraud.Weights:
    """The combination fitted for this fraud text-model version; ModelNotReady until it is."""
    calibration = FraudCalibration.objects.filter(model_version_id=version_id).first()
    if calibration is None:
        raise ModelNotReady(
            f"the fraud combination of claims-fraud version {version_id} is not fitted yet: a worker "
            "fits it when the version is activated (`manage.py train` fits it in the calling process)",
            field="claims-fraud",
        )
    return fraud.Weights(calibration.bias, calibration.weights)


def fraud_calibrated(version: ModelVersion) -> bool:
    return FraudCalibration.objects.filter(model_version=version).exists()


def fraud_calibrate(version: ModelVersion) -> FraudCalibration:
    """The version's combination, fitted first if it has none: on generated claims the text model
    never saw (another seed than its training data), measured on a held-out part. Safe to run twice."""
    stored = FraudCalibration.objects.filter(model_version=version).first()
    return stored if stored is not None else _fitted(version)


def _fitted(version: ModelVersion) -> FraudCalibration:
    from sklearn.metrics import roc_auc_score

    from assistant.training.inference import classifier_for
    from claims.synthetic import generate

    policies, claims = generate(fraud.CALIBRATION_CLAIMS, seed=fraud.CALIBRATION_SEED)
    by_number = {p.number: p for p in policies}
    priors = fraud.prior_claims_of([(c.policy_number, c.loss_date) for c in claims])
    classifier = classifier_for(version)
    suspicious = classifier.labels.index(fraud.SUSPICIOUS)
    probabilities = classifier.scores([c.description for c in claims]).probabilities[:, suspicious]
    rows, labels = [], []
    for claim, prior, probability in zip(claims, priors, probabilities, strict=True):
        policy = by_number[claim.policy_number]
        facts = fraud.ClaimFacts(
            loss_date=claim.loss_date,
            reported_date=claim.reported_date,
            amount=claim.amount_claimed,
            policy_from=policy.effective_from,
            policy_limit=policy.limit,
            prior_claims=prior,
            stated_dates=fraud.dates_stated(extract(claim.description, reference_date=claim.reported_date)),
        )
        rows.append(fraud.features_of(fraud.signals_of(facts), float(probability)))
        labels.append(int(claim.suspicious))
    cut = int(len(rows) * (1 - fraud.CALIBRATION_HELD_OUT))
    weights, model = fraud.weights_fit(rows[:cut], labels[:cut])
    held_rows, held_labels = rows[cut:], labels[cut:]
    text_index = fraud.FEATURES.index(fraud.TEXT)
    metrics = {
        "held_out_claims": len(held_rows),
        "roc_auc_combined": round(float(roc_auc_score(held_labels, model.predict_proba(held_rows)[:, 1])), 4),
        "roc_auc_text_only": round(float(roc_auc_score(held_labels, [r[text_index] for r in held_rows])), 4),
        "roc_auc_signals_only": round(
            float(roc_auc_score(held_labels, [sum(r[:text_index]) for r in held_rows])), 4
        ),
    }
    try:
        with transaction.atomic():
            calibration = FraudCalibration.objects.create(
                model_version=version, bias=weights.bias, weights=weights.weights, metrics=metrics
            )
    except IntegrityError:
        return FraudCalibration.objects.get(model_version=version)  # another worker fitted it first
    logger.info("fraud combination fitted for model version %s: %s", version.pk, metrics)
    return calibration
