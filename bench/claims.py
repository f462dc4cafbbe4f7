"""Claims: classifier quality, and the API with a real worker (submissions/s, triage latency).

    .venv/bin/python bench/claims.py [--sections quality api] [--paced 200] [--burst 300]

Runs in its own database (finassist_bench). Trains what is not there: `claims-line-of-business`
on InsuranceQA V2's train split (the datasets folder; without it the section is skipped),
`claims-route` and `claims-fraud` on generated claims (a few minutes each on this machine).

- quality: the line-of-business model against a TF-IDF + logistic-regression baseline on
  InsuranceQA's official valid split (2,000 questions neither saw); the route model and the
  whole triage (route after the fraud score and policy check; fraud score at the investigation
  threshold) on 600 generated claims of a seed no model trained on.
- api: gunicorn (2 workers) and one Celery worker (concurrency 1) on this machine. Paced: one
  claim every 250 ms, latency from the request's insert to `complete` (server timestamps).
  Burst: as many submissions as 4 client threads can make; submissions/s, then how long the
  worker takes to drain them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from assistant.core.errors import ApplicationError  # noqa: E402
from assistant.db.urls import database_url  # noqa: E402
from assistant.integrations.keys import api_key_issue  # noqa: E402
from assistant.integrations.models import System  # noqa: E402
from assistant.training.inference import predict  # noqa: E402
from assistant.training.models import ModelVersion  # noqa: E402
from claims.demo import synthetic_claim_input, synthetic_policies_store  # noqa: E402
from claims.learning import FRAUD, LINE_OF_BUSINESS, ROUTE, insuranceqa_examples  # noqa: E402
from claims.models import Claim  # noqa: E402
from claims.services.submission import claims_submit  # noqa: E402
from claims.services.triage import claim_triage  # noqa: E402
from claims.synthetic import SyntheticClaim, generate  # noqa: E402
from tests.support.processes import Worker, free_port, project_env, wait_for  # noqa: E402

TARGETS = {"line_of_business_accuracy_above": 0.9905, "line_of_business_macro_f1_above": 0.9374,
           "submission_to_complete_p95_ms": 200}  # fmt: skip
HELD_OUT_SEED = 101
HELD_OUT_CLAIMS = 600


def _ensure_models(tasks: list[str]) -> None:
    for task in tasks:
        if not ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE).exists():
            call_command("train", task, "--activate", "always")


def _metrics(truth: list[str], predicted: list[str]) -> dict[str, object]:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    per_class = f1_score(truth, predicted, labels=labels, average=None)
    return {
        "accuracy": round(float(accuracy_score(truth, predicted)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro")), 4),
        "f1_per_class": {label: round(float(f), 3) for label, f in zip(labels, per_class, strict=True)},
        "n": len(truth),
    }


def _predicted(task: str, texts: list[str]) -> list[str]:
    return [
        p.label for i in range(0, len(texts), 256) for p in predict(task, texts[i : i + 256], record=False)
    ]


def line_of_business() -> dict[str, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train, valid = insuranceqa_examples("train"), insuranceqa_examples("valid")
    _ensure_models([LINE_OF_BUSINESS])
    baseline = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10, max_iter=3000))
    baseline.fit([e.text for e in train], [e.label for e in train])
    truth = [e.label for e in valid]
    version = ModelVersion.objects.get(task=LINE_OF_BUSINESS, status=ModelVersion.Status.ACTIVE)
    return {
        "data": f"InsuranceQA V2: train {len(train)} questions (the platform holds out 15% of them), "
        f"evaluated on the official valid split ({len(valid)})",
        "baseline_tfidf_logistic_regression": _metrics(
            truth, list(baseline.predict([e.text for e in valid]))
        ),
        "fine_tuned": {
            "version": version.pk,
            "config": {k: version.config[k] for k in ("method", "epochs", "learning_rate", "max_tokens")},
            **_metrics(truth, _predicted(LINE_OF_BUSINESS, [e.text for e in valid])),
        },
    }


def _item(claim: SyntheticClaim, external_id: str) -> dict[str, object]:
    """A generated claim as the API's JSON body."""
    return {
        k: v if isinstance(v, str | list) else str(v)
        for k, v in synthetic_claim_input(claim, external_id).items()
    }


def route_and_fraud() -> dict[str, object]:
    from sklearn.metrics import precision_score, recall_score, roc_auc_score

    _ensure_models([LINE_OF_BUSINESS, ROUTE, FRAUD])
    policies, claims = generate(HELD_OUT_CLAIMS, seed=HELD_OUT_SEED)
    synthetic_policies_store(policies)
    system, _ = System.objects.get_or_create(name=f"bench-quality-{uuid.uuid4().hex[:6]}")
    stored = claims_submit(system=system, items=[synthetic_claim_input(c) for c in claims], batch=True)
    started = time.perf_counter()
    timings = []
    triaged = []
    for claim in stored:
        begun = time.perf_counter()
        triaged.append(claim_triage(claim.pk))
        timings.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    truth_route = [c.route for c in claims]
    suspicious = [int(c.suspicious) for c in claims]
    scores = [t.triage.fraud_score for t in triaged]
    threshold = settings.CLAIMS_INVESTIGATION_THRESHOLD
    flagged = [int(s >= threshold) for s in scores]
    return {
        "data": f"{HELD_OUT_CLAIMS} generated claims (seed {HELD_OUT_SEED}; the models trained on seed 7)",
        "route_model": _metrics(truth_route, [t.triage.model_route for t in triaged]),
        "route_after_triage_rules": _metrics(truth_route, [t.triage.route for t in triaged]),
        "fraud": {
            "roc_auc_combined_score": round(float(roc_auc_score(suspicious, scores)), 4),
            "threshold": threshold,
            "precision_at_threshold": round(float(precision_score(suspicious, flagged)), 4),
            "recall_at_threshold": round(float(recall_score(suspicious, flagged)), 4),
            "suspicious_share": round(sum(suspicious) / len(suspicious), 3),
        },
        "triage_service_in_process": {
            **summary_ms(timings),
            "claims_per_s": round(len(triaged) / elapsed, 1),
        },
    }


class Server:
    """gunicorn serving the project on a free port, on the benchmark's database."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable, "-m", "gunicorn", "assistant.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
            "--config", "python:assistant.gunicorn_hooks",
        ]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._ready, 60, f"gunicorn on port {self.port} (log: {log})")

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


def _completed(ids: list[int]) -> list[Claim]:
    return list(Claim.objects.filter(pk__in=ids, status__in=[Claim.Status.COMPLETE, Claim.Status.PARTIAL]))


def api(paced: int, burst: int) -> dict[str, object]:
    _ensure_models([LINE_OF_BUSINESS, ROUTE, FRAUD])
    policies, claims = generate(max(paced, burst), seed=HELD_OUT_SEED + 1)
    synthetic_policies_store(policies)
    system = System.objects.create(name=f"bench-api-{uuid.uuid4().hex[:6]}")
    _, key = api_key_issue(system=system, name="bench", scopes=["claims:read", "claims:write"])
    env = project_env(DATABASE_URL=database_url(connection.settings_dict))
    log_dir = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    worker = Worker("inference", log_dir, env)
    server = Server(env, log_dir / "gunicorn.log")
    headers = {"Authorization": f"Bearer {key}"}
    try:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:

            def submit(item: dict[str, object]) -> int:
                response = client.post(
                    "/api/claims/", json=item, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                if response.status_code != 202:
                    raise ApplicationError(f"submission refused: {response.status_code} {response.text}")
                return response.json()["id"]

            # Warm-up: every gunicorn worker and the Celery worker load what they need.
            warm = [submit(_item(c, f"warm-{uuid.uuid4().hex[:8]}")) for c in claims[:10]]
            wait_for(lambda: len(_completed(warm)) == len(warm), 180, "the warm-up claims")

            paced_ids = []
            for claim in claims[:paced]:
                paced_ids.append(submit(_item(claim, f"paced-{uuid.uuid4().hex[:8]}")))
                time.sleep(0.25)
            wait_for(lambda: len(_completed(paced_ids)) == len(paced_ids), 300, "the paced claims")
            latencies = [(c.completed_at - c.created_at).total_seconds() for c in _completed(paced_ids)]

            items = [_item(claim, f"burst-{uuid.uuid4().hex[:8]}") for claim in claims[:burst]]
            started = time.perf_counter()
            with ThreadPoolExecutor(4) as pool:
                burst_ids = list(pool.map(submit, items))
            submitted_s = time.perf_counter() - started
            wait_for(lambda: len(_completed(burst_ids)) == len(burst_ids), 900, "the burst to drain")
            done = _completed(burst_ids)
            drained_s = (max(c.completed_at for c in done) - min(c.created_at for c in done)).total_seconds()
    finally:
        server.stop()
        worker.stop()
    outcomes = {status: sum(1 for c in done if c.status == status) for status in ("complete", "partial")}
    return {
        "setup": "gunicorn 2 workers + 1 Celery worker (concurrency 1) + PostgreSQL + Redis, on this machine",
        "paced_submission_to_complete": {**summary_ms(latencies), "interval_ms": 250},
        "burst": {
            "claims": burst,
            "client_threads": 4,
            "submissions_per_s": round(burst / submitted_s, 1),
            "triaged_per_s": round(burst / drained_s, 1),
            "outcomes": outcomes,
            "median_queue_wait_ms": round(
                statistics.median((c.completed_at - c.created_at).total_seconds() for c in done) * 1000
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sections", nargs="+", default=["quality", "api"], choices=["quality", "api"])
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--burst", type=int, default=300)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    results: dict[str, object] = {"targets": TARGETS}
    if "quality" in options.sections:
        if (settings.DATASETS_DIR / "insuranceqa_v2_questions" / "valid.jsonl").is_file():
            results["line_of_business"] = line_of_business()
        results["route_and_fraud"] = route_and_fraud()
    if "api" in options.sections:
        results["api"] = api(options.paced, options.burst)
    os.environ.pop("DATABASE_URL", None)
    write_result("claims", results)


if __name__ == "__main__":
    main()
