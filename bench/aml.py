"""AML: typology model quality, the combined risk's calibration, screening throughput and latency.

    .venv/bin/python bench/aml.py [--sections quality risk speed] [--transactions 5000] [--single 200]

Runs in its own database (finassist_bench); trains `aml-typology` there when it has no active
version (FinCEN advisories' train split from the datasets folder plus generated narratives).

- quality: accuracy and macro-F1 of the served (int8) model, and of the same model in float32,
  on the red-flag passages of the advisories held out by document (the test split; the datasets
  folder is needed) and, separately, on generated narratives of a seed no model trained on;
  a TF-IDF + logistic-regression baseline trained on the same examples, for comparison.
- risk: the calibration fitted for the active model and the shipped rules, on held-out scenarios:
  ROC AUC of rules + model, rules alone, model alone; Brier score; ECE; precision and recall at
  the alert threshold.
- speed: generated transactions with their customers' histories stored, then screened in-process
  in batches of 1,000 (rules, model, risk, explanation of alerts, inserts): transactions/s. Single
  calls: one transaction through `POST /api/aml/screen` (Django's test client, no network), with
  the phrase attribution every single call gets: p50/p95.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from aml.learning import advisory_passages, typology_examples  # noqa: E402
from aml.models import Account, Customer, RiskCalibration, Rule, Transaction  # noqa: E402
from aml.services.calibration import risk_calibration_fit  # noqa: E402
from aml.services.screening import Setup, phrases_attribute, transactions_screen  # noqa: E402
from aml.synthetic import narratives, scenarios  # noqa: E402
from aml.typology import TYPOLOGY  # noqa: E402
from assistant.core.errors import ApplicationError  # noqa: E402
from assistant.integrations.keys import api_key_issue  # noqa: E402
from assistant.integrations.models import System  # noqa: E402
from assistant.training import inference  # noqa: E402
from assistant.training.inference import active_version, predict  # noqa: E402
from assistant.training.models import ModelVersion  # noqa: E402

TARGETS = {"batch_transactions_per_second": 500}
HELD_OUT_SEED = 211
HELD_OUT_NARRATIVES = 1300
SPEED_SEED = 307


class Rollback(Exception):
    """Raised to undo what a measurement stored (audit events cannot be deleted, only not committed)."""


def _ensure_model() -> ModelVersion:
    if not ModelVersion.objects.filter(task=TYPOLOGY, status=ModelVersion.Status.ACTIVE).exists():
        call_command("train", TYPOLOGY, "--activate", "always")
    return active_version(TYPOLOGY)


def _metrics(truth: list[str], predicted: list[str]) -> dict[str, object]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    per_class = f1_score(truth, predicted, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(
            float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)), 4
        ),
        "f1_per_class": {label: round(float(f), 3) for label, f in zip(labels, per_class, strict=True)},
        "n": len(truth),
    }


def _predicted(texts: list[str]) -> list[str]:
    return [
        p.label
        for i in range(0, len(texts), 512)
        for p in predict(TYPOLOGY, texts[i : i + 512], record=False)
    ]


def _float32_predicted(version: ModelVersion, texts: list[str]) -> list[str]:
    """The same version's labels without the int8 quantization it is served with."""
    from assistant.training.techniques import predictor_load

    classifier = predictor_load(Path(version.artefact_path), expected_checksum=version.artefact_checksum)
    return [classifier.labels[int(row.argmax())] for row in classifier.scores(texts).probabilities]


def quality() -> dict[str, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    version = _ensure_model()
    train = typology_examples()
    baseline = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=3000)
    )
    baseline.fit([e.text for e in train], [e.label for e in train])
    sets = {"generated_narratives": narratives(HELD_OUT_NARRATIVES, HELD_OUT_SEED)}
    with contextlib.suppress(ApplicationError):  # without the datasets folder: narratives only
        sets["advisories_held_out"] = advisory_passages("test")
    results: dict[str, object] = {
        "model_version": version.pk,
        "trained_on": f"{len(train)} examples (the platform holds out 15% for its own validation)",
    }
    for name, examples in sets.items():
        texts, truth = [e.text for e in examples], [e.label for e in examples]
        served = _predicted(texts)
        full = _float32_predicted(version, texts)
        results[name] = {
            "fine_tuned_int8_served": _metrics(truth, served),
            "fine_tuned_float32": _metrics(truth, full),
            "int8_float32_agreement": round(
                sum(a == b for a, b in zip(served, full, strict=True)) / len(texts), 4
            ),
            "baseline_tfidf_logistic_regression": _metrics(truth, list(baseline.predict(texts))),
        }
    return results


def risk() -> dict[str, object]:
    version = _ensure_model()
    rules = list(Rule.objects.all())
    RiskCalibration.objects.filter(model_version=version).delete()
    calibration = risk_calibration_fit(version, rules)
    return {
        "model_version": version.pk,
        "bias": calibration.bias,
        "weights": calibration.weights,
        **calibration.metrics,
    }


def _stored(count: int) -> list[Transaction]:
    """The screened transactions of `count` generated scenarios, each customer with its history."""
    generated = scenarios(count, SPEED_SEED)
    run = uuid.uuid4().hex[:8]
    customers = Customer.objects.bulk_create(
        Customer(reference=f"B{run}-{n}", name=f"Bench customer {n}", kind="individual", country="GB",
                 onboarded_on=date(2024, 1, 1))
        for n in range(len(generated))
    )  # fmt: skip
    accounts = Account.objects.bulk_create(
        Account(customer=customer, number=f"B{run}-{n}", currency=s.transaction.currency,
                opened_on=date(2024, 1, 2), kind="current")
        for n, (customer, s) in enumerate(zip(customers, generated, strict=True))
    )  # fmt: skip
    fields = ("amount", "currency", "direction", "counterparty_name", "counterparty_country", "channel",
              "booked_at", "narrative")  # fmt: skip
    # Generated times run to December 2026: moved back so that none is in the future.
    shift = max(s.transaction.booked_at for s in generated) - datetime.now(UTC) + timedelta(days=1)
    rows, screened = [], []
    for account, s in zip(accounts, generated, strict=True):
        for n, t in enumerate([*s.history, s.transaction]):
            values = {f: getattr(t, f) for f in fields} | {"booked_at": t.booked_at - shift}
            rows.append(Transaction(account=account, external_id=f"T{n}", **values))
        screened.append(len(rows) - 1)
    stored = Transaction.objects.bulk_create(rows, batch_size=5000)
    with connection.cursor() as cursor:  # statistics of a populated table, as autovacuum keeps them
        cursor.execute("ANALYZE aml_customer, aml_account, aml_transaction")
    chosen = [stored[i] for i in screened]
    for t in chosen:
        t.account = next(a for a in accounts if a.pk == t.account_id)
    return chosen


def speed(count: int, single: int) -> dict[str, object]:
    version = _ensure_model()
    risk_calibration_fit(version)
    results: dict[str, object] = {}
    try:
        with transaction.atomic():
            chosen = _stored(count)
            setup = Setup.now()
            transactions_screen(chosen[:50], setup=setup)  # load the model, warm the caches
            inference.records_flush()
            started = time.perf_counter()
            screenings = []
            for start in range(50, len(chosen), 1000):
                screenings += transactions_screen(chosen[start : start + 1000], phrases="none", setup=setup)
            screened = time.perf_counter() - started
            alerting = [s for s in screenings if s.risk >= settings.AML_ALERT_THRESHOLD]
            started = time.perf_counter()
            attributed = phrases_attribute(alerting)
            attributing = time.perf_counter() - started
            results["batch"] = {
                "transactions": len(screenings),
                "distinct_narratives": len({t.narrative for t in chosen[50:]}),
                "seconds": round(screened, 2),
                "transactions_per_second": round(len(screenings) / screened, 1),
                "alerts": len(alerting),
                "phrase_attribution_of_alerts": {
                    "alerts": len(attributed),
                    "seconds": round(attributing, 2),
                    "alerts_per_second": round(len(attributed) / attributing, 1) if attributed else None,
                },
            }
            raise Rollback
    except Rollback:
        pass
    try:
        with transaction.atomic():
            system = System.objects.create(name=f"bench-{uuid.uuid4().hex[:6]}")
            _, key = api_key_issue(system=system, name="bench", scopes=["aml:screen"])
            client = APIClient(HTTP_HOST="localhost")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            chosen = _stored(single + 5)
            samples = []
            for n, t in enumerate(chosen):
                body = {"transaction": {
                    "account": t.account.number, "external_id": f"S{n}", "amount": str(t.amount),
                    "currency": t.currency, "direction": t.direction, "channel": t.channel,
                    "counterparty_name": t.counterparty_name, "counterparty_country": t.counterparty_country,
                    "booked_at": t.booked_at.isoformat(), "narrative": t.narrative,
                }}  # fmt: skip
                started = time.perf_counter()
                response = client.post(
                    "/api/aml/screen", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
                )
                if n >= 5:
                    samples.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise SystemExit(
                        f"single screening failed: {response.status_code} {response.content[:300]!r}"
                    )
            results["single_call_api"] = summary_ms(samples)
            raise Rollback
    except Rollback:
        pass
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sections = ["quality", "risk", "speed"]
    parser.add_argument("--sections", nargs="+", default=sections, choices=sections)
    parser.add_argument("--transactions", type=int, default=5000)
    parser.add_argument("--single", type=int, default=200)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    results: dict[str, object] = {"targets": TARGETS}
    if "quality" in options.sections:
        results["quality"] = quality()
    if "risk" in options.sections:
        results["risk"] = risk()
    if "speed" in options.sections:
        results["speed"] = speed(options.transactions, options.single)
    os.environ.pop("DATABASE_URL", None)
    write_result("aml", results)


if __name__ == "__main__":
    main()
