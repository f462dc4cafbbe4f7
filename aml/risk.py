"""The combined risk of a screening: rules and the typology model, calibrated to a probability.

Three features: `rules`, the sum of the weights (set in the admin) of the rules that fired;
`text`, the log-odds that the narrative or document describes some typology rather than ordinary
activity (1 - P(none) from `aml-typology`), clipped to ±LOGIT_CLIP; `no_text`, 1 when there was
nothing to read (an empty narrative). Risk = sigmoid(bias + sum of coefficient x feature).

The coefficients are fitted by logistic regression on synthetic scenarios (`aml.synthetic`,
a seed the model never trained on), once per typology model version and rule settings, on a worker
(`aml.services.calibration`): when a version is activated and when a rule is edited in the admin.
A screening never fits: until the fit is there it is refused with 503. Each fit keeps what it measured on
the held-out share of its scenarios (ROC AUC of the combination, of the rules alone and of the
text alone; Brier score; expected calibration error), so the weights are measured, not assumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from aml.models import RiskCalibration, Rule
from aml.rules import RuleHit, rules_evaluate
from aml.typology import NONE, TYPOLOGY, TYPOLOGY_LABELS
from assistant.core.timing import ms_since
from assistant.training.evaluation import expected_calibration_error, log_odds
from assistant.training.inference import MAX_BATCH, Prediction, classifier_for, predict
from assistant.training.models import ModelVersion

logger = logging.getLogger("finassist.aml")

FEATURES = ("rules", "text", "no_text")
LOGIT_CLIP = 6.0
CALIBRATION_SEED = 17
CALIBRATION_SCENARIOS = 3000
HELD_OUT_EVERY = 3  # every third scenario measures the fit


def typology_scored(texts: Sequence[str], *, record: bool = True) -> list[Prediction]:
    """Every label's probability for each text, in order, in calls of at most MAX_BATCH texts."""
    return [
        prediction
        for start in range(0, len(texts), MAX_BATCH)
        for prediction in predict(
            TYPOLOGY, texts[start : start + MAX_BATCH], record=record, alternatives=len(TYPOLOGY_LABELS)
        )
    ]


def typology_predictions(texts: Sequence[str], *, record: bool = True) -> dict[str, Prediction]:
    """The typology model's reading of each distinct text."""
    distinct = sorted(set(texts))
    return dict(zip(distinct, typology_scored(distinct, record=record), strict=True))


def suspicion_of(prediction: Prediction) -> float:
    """P(some typology) = 1 - P(none), from a prediction with every label's probability."""
    return 1.0 - dict(prediction.alternatives)[NONE]


def features_of(hits: Sequence[RuleHit], weights: dict[str, float], suspicion: float | None) -> list[float]:
    rules = sum(weights.get(hit.code, 0.0) for hit in hits)
    if suspicion is None:
        return [rules, 0.0, 1.0]
    return [rules, log_odds(suspicion, clip=LOGIT_CLIP), 0.0]


def rule_weights(rules: Sequence[Rule]) -> dict[str, float]:
    return {rule.code: rule.weight for rule in rules if rule.enabled}


def rules_digest(rules: Sequence[Rule]) -> str:
    settings_now = sorted((rule.code, rule.parameters, rule.weight) for rule in rules if rule.enabled)
    return hashlib.sha256(json.dumps(settings_now, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Risk:
    score: float
    bias: float
    contributions: list[dict[str, Any]]  # feature, value, contribution, detail


def risk_of(calibration: RiskCalibration, features: Sequence[float], details: dict[str, str]) -> Risk:
    values = dict(zip(FEATURES, features, strict=True))
    contributions = {name: calibration.weights[name] * value for name, value in values.items()}
    z = calibration.bias + sum(contributions.values())
    return Risk(
        1 / (1 + math.exp(-z)),
        round(calibration.bias, 4),
        [
            {
                "feature": name,
                "value": round(values[name], 4),
                "contribution": round(contributions[name], 4),
                "detail": details.get(name, ""),
            }
            for name in FEATURES
            if values[name]
        ],
    )


def _auc(truth: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(truth, scores)), 4)


def _suspicion(version: ModelVersion, texts: Sequence[str]) -> list[float]:
    """1 - P(none) for each text, by this version's model (which need not be the active one)."""
    classifier = classifier_for(version)
    none = classifier.labels.index(NONE)
    return [
        1.0 - float(p)
        for start in range(0, len(texts), MAX_BATCH)
        for p in classifier.scores(list(texts[start : start + MAX_BATCH])).probabilities[:, none]
    ]


def calibration_fit(version: ModelVersion, rules: Sequence[Rule]) -> RiskCalibration:
    """Fit the combination for this model version and these rule settings on generated scenarios."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss

    from aml.synthetic import scenarios

    started = time.perf_counter()
    generated = scenarios(CALIBRATION_SCENARIOS, CALIBRATION_SEED)
    weights = rule_weights(rules)
    enabled = [rule for rule in rules if rule.enabled]
    texts = sorted({s.transaction.narrative for s in generated if s.transaction.narrative.strip()})
    suspicion = dict(zip(texts, _suspicion(version, texts), strict=True))
    rows, labels = [], []
    for scenario in generated:
        hits = rules_evaluate(scenario.transaction, history=scenario.history, rules=enabled)
        rows.append(features_of(hits, weights, suspicion.get(scenario.transaction.narrative)))
        labels.append(int(scenario.suspicious))
    x, y = np.array(rows), np.array(labels)
    held_out = np.arange(len(y)) % HELD_OUT_EVERY == 0
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x[~held_out], y[~held_out])
    probabilities = model.predict_proba(x[held_out])[:, 1]
    truth = y[held_out]
    alerted = probabilities >= settings.AML_ALERT_THRESHOLD
    true_alerts = int((alerted & (truth == 1)).sum())
    metrics = {
        "scenarios": len(y),
        "held_out": int(held_out.sum()),
        "seed": CALIBRATION_SEED,
        "roc_auc": _auc(truth, probabilities),
        "roc_auc_rules_only": _auc(truth, x[held_out][:, 0]),
        "roc_auc_text_only": _auc(truth, x[held_out][:, 1]),
        "brier": round(float(brier_score_loss(truth, probabilities)), 4),
        "ece": round(expected_calibration_error(truth, np.stack([1 - probabilities, probabilities], 1)), 4),
        "alert_threshold": settings.AML_ALERT_THRESHOLD,
        "precision_at_threshold": round(true_alerts / max(int(alerted.sum()), 1), 4),
        "recall_at_threshold": round(true_alerts / max(int(truth.sum()), 1), 4),
        "fit_ms": ms_since(started),
    }
    coefficients = {name: float(w) for name, w in zip(FEATURES, model.coef_[0], strict=True)}
    logger.info("risk calibration for %s v%s: %s", version.task, version.pk, metrics)
    return RiskCalibration(
        model_version=version,
        rules_digest=rules_digest(rules),
        bias=float(model.intercept_[0]),
        weights=coefficients,
        metrics=metrics,
    )
