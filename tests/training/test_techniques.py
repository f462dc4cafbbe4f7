"""Every technique behind one interface: fitted, evaluated, registered and served the same way."""

import json
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from assistant.generation import backend
from assistant.training.inference import predict
from assistant.training.models import ModelVersion, TrainingRun
from assistant.training.services import (
    examples_add,
    run_execute,
    run_submit,
    version_activate,
    version_rollback,
)
from assistant.training.tasks import fit_task
from assistant.training.techniques.icl import parsed
from tests.support.training import TOPIC_TASK, tone_examples

FROZEN = ["zero-shot", "knn", "probe", "tfidf"]


@pytest.fixture
def fit(db):
    def run(method: str, **options: object) -> ModelVersion:
        submitted = run_submit(task=TOPIC_TASK.name, options={"method": method, **options}, dispatch=False)
        finished = run_execute(submitted.pk)
        assert finished.status == TrainingRun.Status.SUCCEEDED, finished.error
        return finished.model_version

    return run


@pytest.mark.parametrize("method", FROZEN)
def test_each_technique_registers_a_version_with_its_costs_and_serves_the_same_shape(fit, method):
    version = fit(method)

    assert version.method == method
    assert {"accuracy", "macro_f1", "ece", "per_class", "confusion_matrix"} <= set(version.metrics)
    assert version.abstain_threshold > 0
    assert version.fit_seconds > 0
    assert version.artefact_bytes > 0
    assert version.peak_memory_bytes > 0
    assert len(version.artefact_checksum) == 64
    version_activate(version)
    [prediction] = predict(TOPIC_TASK.name, ["my debit card is a problem"], record=False)
    shape = prediction.as_dict()
    assert set(shape) == {"label", "confidence", "abstained", "model_version", "alternatives"}
    assert shape["label"] in TOPIC_TASK.labels
    assert shape["model_version"] == version.pk
    assert len(shape["alternatives"]) == 3


def test_knn_chooses_k_and_weighting_on_the_validation_split(fit):
    version = fit("knn")

    manifest = json.loads((Path(version.artefact_path) / "finassist-model.json").read_text())
    assert manifest["k"] in (1, 3, 5, 10, 20, 50)
    assert manifest["weighting"] in ("uniform", "similarity", "softmax")
    assert f"k={manifest['k']} {manifest['weighting']}" in version.metrics["chosen_on_validation"]


def test_a_knn_version_uses_added_examples_and_labels_at_once_without_a_refit(fit):
    version = fit("knn", knn_k=1)
    version_activate(version)
    text = "where is my pension statement for this year"
    before = predict(TOPIC_TASK.name, [text], record=False)[0]
    assert before.label != "pension"

    result = examples_add(version, [tone_examples()[0]._replace(text=text, label="pension")])

    after = predict(TOPIC_TASK.name, [text], record=False)[0]
    assert result.new_labels == ["pension"]
    assert after.label == "pension"
    assert after.model_version == version.pk
    assert ModelVersion.objects.get(pk=version.pk).labels[-1] == "pension"
    assert TrainingRun.objects.count() == 1  # no refit


def test_the_examples_api_adds_to_a_knn_version_and_refuses_a_fine_tuned_one(fit, engineer):
    knn, probe = fit("knn", knn_k=1), fit("probe")

    added = engineer.post(
        f"/api/training/versions/{knn.pk}/examples",
        {"examples": [{"text": "my savings pot interest", "label": "savings"}]},
        content_type="application/json",
    )
    refused = engineer.post(
        f"/api/training/versions/{probe.pk}/examples",
        {"examples": [{"text": "my savings pot interest", "label": "savings"}]},
        content_type="application/json",
    )
    empty = engineer.post(
        f"/api/training/versions/{knn.pk}/examples", {"examples": []}, content_type="application/json"
    )

    assert added.status_code == 201, added.json()
    assert added.json() == {"added": 1, "new_labels": ["savings"], "labels": [*TOPIC_TASK.labels, "savings"]}
    assert refused.status_code == 400
    assert "only knn and icl" in refused.json()["version"][0]
    assert empty.status_code == 400
    assert "examples" in empty.json()


def test_the_examples_api_is_for_ml_engineers_only(fit, client):
    version = fit("knn")
    client.force_login(User.objects.create_user("advisor"))

    response = client.post(
        f"/api/training/versions/{version.pk}/examples",
        {"examples": [{"text": "a", "label": "card"}]},
        content_type="application/json",
    )

    assert response.status_code == 403


def test_activation_and_rollback_work_across_techniques(fit):
    knn, tfidf = fit("knn"), fit("tfidf")
    version_activate(knn)
    version_activate(tfidf)
    assert predict(TOPIC_TASK.name, ["loan repayment"], record=False)[0].model_version == tfidf.pk

    restored = version_rollback(TOPIC_TASK.name)

    assert restored.pk == knn.pk
    assert predict(TOPIC_TASK.name, ["loan repayment"], record=False)[0].model_version == knn.pk


def test_icl_prompts_the_configured_server_with_the_nearest_examples_and_parses_its_label(fit, chat_server):
    # Enough replies for the calibration and validation samples; each names the label "card".
    server = chat_server(["card"] * 100)

    version = fit("icl", icl_backend="configured", icl_shots=3, evaluation_limit=5)

    assert version.metrics["evaluated_on"]["validation"] == 5
    assert version.metrics["calls"] == 10
    assert version.metrics["prompt_tokens_mean"] == 50
    assert version.metrics["model"] == "tiny-chat"
    request = server.requests[0]["body"]
    assert "stream" not in request
    assert "card, loan, fraud" in request["messages"][0]["content"]
    roles_sent = [m["role"] for m in request["messages"]]
    assert roles_sent == ["system", "user", "assistant", "user", "assistant", "user", "assistant", "user"]
    assert all(m["content"] in TOPIC_TASK.labels for m in request["messages"] if m["role"] == "assistant")


def test_an_icl_reply_that_names_no_label_abstains(fit, chat_server):
    chat_server(["card"] * 10 + ["I cannot tell, sorry."])
    version = fit("icl", icl_backend="configured", icl_shots=2, evaluation_limit=5)
    version_activate(version)

    [prediction] = predict(TOPIC_TASK.name, ["something odd"], record=False)

    assert prediction.abstained
    assert prediction.confidence == 0.0


def test_icl_refuses_the_extractive_backend_by_name(db, settings):
    settings.GENERATION_BACKEND = "extractive"
    backend.cache_clear()
    submitted = run_submit(
        task=TOPIC_TASK.name, options={"method": "icl", "icl_backend": "configured"}, dispatch=False
    )

    run = run_execute(submitted.pk)

    assert run.status == TrainingRun.Status.FAILED
    assert "icl needs a generative backend" in run.error


@pytest.mark.parametrize(
    ("reply", "label"),
    [
        ("card_arrival", 0),
        ("Card arrival.", 0),
        ("The label is: exchange rate", 1),
        ("card", None),
        ("", None),
    ],
)
def test_icl_replies_are_parsed_to_one_label_or_none(reply, label):
    assert parsed(reply, ["card_arrival", "exchange_rate"]) == label


@pytest.mark.slow
def test_icl_runs_offline_on_the_bundled_smollm2(fit, settings, tmp_path_factory):
    settings.MODELS_DIR = tmp_path_factory.getbasetemp() / "shared-models"
    version = fit("icl", icl_shots=2, evaluation_limit=3)

    assert version.metrics["calls"] == 6
    assert version.metrics["model"].startswith("smollm2")
    assert version.metrics["prompt_tokens_mean"] > 20
    assert version.metrics["call_seconds_p50"] > 0


def test_an_inference_queue_worker_fits_every_technique_that_needs_no_training(
    start_worker, settings, tiny_model, chat_server
):
    server = chat_server(["card"] * 100)
    queue = f"test-{uuid.uuid4().hex[:12]}"
    start_worker(
        queue,
        FINASSIST_TRAINING_BASE_MODEL=tiny_model,
        FINASSIST_MODELS_DIR=str(settings.MODELS_DIR),
        FINASSIST_GENERATION_BACKEND="openai",
        FINASSIST_OPENAI_BASE_URL=server.url,
        FINASSIST_OPENAI_MODEL="tiny-chat",
    )
    options: dict[str, dict[str, object]] = {m: {} for m in FROZEN}
    options["icl"] = {"icl_backend": "configured", "icl_shots": 2, "evaluation_limit": 3}

    for method, extra in options.items():
        run = run_submit(task=TOPIC_TASK.name, options={"method": method, **extra}, dispatch=False)
        status = fit_task.apply_async((run.pk,), queue=queue).get(timeout=180)
        run.refresh_from_db()
        assert status == "succeeded", (method, run.error)
        assert run.step == run.total_steps > 0
        version_activate(run.model_version)
        [prediction] = predict(TOPIC_TASK.name, ["my card was declined"], record=False)
        assert prediction.model_version == run.model_version.pk
        assert prediction.label in TOPIC_TASK.labels

    assert sorted(ModelVersion.objects.values_list("method", flat=True)) == sorted(options)
    assert len(server.requests) >= 6


def test_the_admin_adds_examples_to_a_knn_version_and_the_task_page_shows_costs(fit, engineer):
    version = fit("knn", knn_k=1)

    form = engineer.get(f"/admin/training/modelversion/{version.pk}/examples/")
    bad = engineer.post(f"/admin/training/modelversion/{version.pk}/examples/", {"examples": "no tab here"})
    added = engineer.post(
        f"/admin/training/modelversion/{version.pk}/examples/", {"examples": "pension\tmy pension statement"}
    )
    page = engineer.get(f"/admin/training/modelversion/task/{TOPIC_TASK.name}/")

    assert form.status_code == 200
    assert "write the label, a tab, then the text" in bad.content.decode()
    assert added.status_code == 302
    assert ModelVersion.objects.get(pk=version.pk).labels[-1] == "pension"
    assert "fit seconds" in page.content.decode()
    assert "peak memory" in page.content.decode()


def test_the_home_page_shows_each_task_s_technique_and_training_under_way(fit, engineer):
    version_activate(fit("knn"))
    run_submit(task=TOPIC_TASK.name, options={"method": "lora"}, dispatch=False)

    page = engineer.get("/").content.decode()

    assert "Models serving" in page
    assert "knn (v" in page
    assert "1 queued" in page
