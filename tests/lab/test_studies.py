"""Studies on the tiny task: every technique fitted, measured, scored once on its test split, and a
recommendation made; in this process (the command) and through real workers."""

import io
import json
import time

import pytest
from django.core.management import call_command

from assistant.training.models import ModelVersion
from lab.export import markdown, pdf
from lab.models import Arm, Status, Study
from lab.services import (
    study_adopt,
    study_create,
)
from tests.support.training import TOPIC_TASK

pytestmark = pytest.mark.slow
TASK = TOPIC_TASK.name


def checked(figures: dict, technique: str) -> None:
    assert figures["status"] == "succeeded", figures["error"]
    assert {"accuracy", "macro_f1", "worst_f1", "ece", "coverage"} <= set(figures["validation"])
    assert {"accuracy", "macro_f1", "worst_f1", "ece", "coverage"} <= set(figures["test"])
    assert figures["speed"]["p95_ms"] > 0
    assert figures["speed"]["texts_per_s"] > 0
    assert figures["cost"]["fit_seconds"] > 0
    assert figures["cost"]["artefact_bytes"] > 0
    update = figures["update"]
    assert update["how"] == {"zero-shot": "none", "knn": "insert", "icl": "insert", "probe": "refit",
                             "tfidf": "refit"}.get(technique, "retrain")  # fmt: skip
    assert update["seconds"] > 0 or update["how"] == "none"
    sizes = [point["per_label"] for point in figures["curve"]]
    assert sizes == ([0] if technique == "zero-shot" else [8, 0])


def test_compare_techniques_measures_each_technique_and_names_a_recommendation(db, settings, tmp_path):
    settings.DATASETS_DIR = tmp_path / "no-datasets"  # forgetting is judged on the demo FAQ
    out, printed = tmp_path / "study.json", io.StringIO()

    call_command(
        "compare_techniques", TASK, "--techniques", "zero-shot", "knn", "tfidf", "lora",
        "--option", "lora.epochs=1", "--curve", "8", "--answer", "min_accuracy=0.3", "--json", str(out),
        stdout=printed,
    )  # fmt: skip

    result = json.loads(out.read_text())
    assert result["recommendation"] in ("zero-shot", "knn", "tfidf", "lora")
    assert result["why"]["reasons"]
    assert result["test_examples"] > 0
    for technique, figures in result["techniques"].items():
        checked(figures, technique)
    knn_update = result["techniques"]["knn"]["update"]
    assert knn_update["f1_before"] == 0.0  # it had no example of the label
    assert knn_update["f1_after"] >= knn_update["f1_before"]  # a random tiny encoder: no gain promised
    forgetting = result["techniques"]["lora"]["forgetting"]
    assert forgetting["reference"] == "demo FAQ questions"
    assert 0 <= forgetting["base_ndcg10"] <= 1
    assert "Recommendation:" in printed.getvalue()
    assert "[lora] curve: 8 a label" in printed.getvalue()
    study = Study.objects.get()
    assert "| knn |" in markdown(study)
    assert pdf(study).startswith(b"%PDF")
    # The study's runs are candidates; only adopting one serves it.
    assert not ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).exists()
    adopted = study_adopt(study)
    assert adopted.status == ModelVersion.Status.ACTIVE
    assert adopted.method == result["recommendation"]


def test_every_technique_runs_through_real_workers(
    start_worker, test_queue, settings, tiny_model, tmp_path, chat_server
):
    server = chat_server(["card"] * 2000)
    start_worker(
        test_queue,
        FINASSIST_TRAINING_BASE_MODEL=tiny_model,
        FINASSIST_MODELS_DIR=str(settings.MODELS_DIR),
        FINASSIST_DATASETS_DIR=str(tmp_path / "no-datasets"),
        FINASSIST_GENERATION_BACKEND="openai",
        FINASSIST_OPENAI_BASE_URL=server.url,
        FINASSIST_OPENAI_MODEL="tiny-chat",
    )
    techniques = ["zero-shot", "knn", "probe", "tfidf", "icl", "lora", "full"]

    study = study_create(
        task=TASK,
        techniques=techniques,
        options={
            "icl": {"icl_backend": "configured", "icl_shots": 2},
            "lora": {"epochs": 1},
            "full": {"epochs": 1},
        },
        curve_sizes=(8,),
    )

    deadline = time.monotonic() + 600
    while Study.objects.get(pk=study.pk).status not in (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED):
        assert time.monotonic() < deadline, list(Arm.objects.values("technique", "status", "stage", "error"))
        time.sleep(1)
    study.refresh_from_db()
    assert study.status == Status.SUCCEEDED, list(Arm.objects.values("technique", "error"))
    from lab.export import document

    result = document(study)
    assert list(result["techniques"]) == techniques
    for technique, figures in result["techniques"].items():
        checked(figures, technique)
    assert result["recommendation"] in techniques
