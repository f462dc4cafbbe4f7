"""The screening API: API keys with the aml:screen scope, sync screening, batches in a real worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from aml.models import Alert, Screening, ScreeningBatch, Transaction
from aml.tasks import screen_batch_task
from assistant.integrations.keys import api_key_issue
from assistant.integrations.models import System
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db


def key_for(name: str, scopes: list[str]) -> tuple[System, str]:
    system = System.objects.create(name=name)
    return system, api_key_issue(system=system, name="test", scopes=scopes)[1]


def client_for(name: str, scopes: list[str]) -> tuple[APIClient, System]:
    system, key = key_for(name, scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client, system


@pytest.fixture
def payments():
    return client_for("payments", ["aml:screen"])[0]


def transaction(held_on, external_id: str = "P-1", **fields: Any) -> dict[str, Any]:
    return {
        "account": held_on.number,
        "external_id": external_id,
        "amount": "9800.00",
        "currency": held_on.currency,
        "direction": "in",
        "counterparty_name": "Cash deposit",
        "channel": "cash",
        "booked_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "narrative": "cash deposit, customer asked about the reporting limit",
        **fields,
    }


def post(client: APIClient, path: str, body: dict[str, Any], key: str | None = None):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def test_screening_needs_an_api_key_with_the_aml_scope(account):
    claims_only = client_for("claims", ["claims:write"])[0]

    assert APIClient().post("/api/aml/screen", {}, format="json").status_code == 401
    assert post(claims_only, "/api/aml/screen", {"transaction": transaction(account)}).status_code == 403


def test_one_transaction_is_screened_at_once_and_a_retry_replays_the_answer(
    payments, account, typology_model
):
    typology_model()
    key = str(uuid.uuid4())
    body = {"transaction": transaction(account)}

    first = post(payments, "/api/aml/screen", body, key)
    again = post(payments, "/api/aml/screen", body, key)

    assert first.status_code == 201, first.json()
    result = first.json()
    assert 0 <= result["risk"] <= 1
    assert result["subject"] == {"kind": "transaction", "account": account.number, "external_id": "P-1"}
    assert result["explanation"]["typology"]["label"] == result["typology"]
    assert first["Location"] == result["url"]
    assert again.json() == result
    assert again["Idempotent-Replayed"] == "true"
    assert Transaction.objects.count() == Screening.objects.count() == 1
    assert payments.get(result["url"]).json()["id"] == result["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"account": "NO-SUCH"}, "account"),
        ({"currency": "JPY"}, "currency"),
        ({"amount": "-5"}, "amount"),
        ({"channel": "pigeon"}, "channel"),
        ({"counterparty_country": "Iran"}, "counterparty_country"),
        ({"booked_at": "2999-01-01T00:00:00Z"}, "booked_at"),
        ({"booked_at": "0001-01-01T00:00:00Z"}, "booked_at"),
        ({"counterparty_name": "Cash\u0000deposit"}, "counterparty_name"),
    ],
)
def test_a_bad_transaction_gets_400_naming_the_field_and_stores_nothing(
    payments, account, typology_model, change, field
):
    typology_model()

    response = post(payments, "/api/aml/screen", {"transaction": transaction(account, **change)})

    assert response.status_code == 400
    assert field in str(response.json())
    assert not Transaction.objects.exists()


def test_neither_or_both_subjects_and_a_second_screening_of_a_transaction_are_refused(
    payments, account, typology_model
):
    typology_model()
    document = {"customer": account.customer.reference, "name": "note.txt", "text": "A note."}

    neither = post(payments, "/api/aml/screen", {})
    both = post(payments, "/api/aml/screen", {"transaction": transaction(account), "document": document})
    post(payments, "/api/aml/screen", {"transaction": transaction(account)})
    repeated = post(payments, "/api/aml/screen", {"transaction": transaction(account)})

    assert neither.status_code == both.status_code == 400
    assert repeated.status_code == 409
    assert "external_id" in repeated.json()


def test_a_transaction_racing_another_with_its_external_id_is_a_conflict(
    payments, account, typology_model, monkeypatch
):
    typology_model()
    post(payments, "/api/aml/screen", {"transaction": transaction(account)})
    # The other request stored it after this one looked: only the database's constraint sees it.
    monkeypatch.setattr("aml.services.screening._screened", lambda keys: set())

    response = post(payments, "/api/aml/screen", {"transaction": transaction(account)})

    assert response.status_code == 409
    assert "at the same moment" in response.json()["external_id"][0]
    assert Transaction.objects.count() == 1


def test_a_customer_document_is_screened_and_another_system_cannot_read_it(payments, account, typology_model):
    typology_model()
    other = client_for("other", ["aml:screen"])[0]
    document = {
        "customer": account.customer.reference,
        "name": "source-of-funds.txt",
        "text": "The customer says the funds came from selling crypto for a ransom payment. He paid in cash.",
    }

    response = post(payments, "/api/aml/screen", {"document": document})
    unknown = post(payments, "/api/aml/screen", {"document": {**document, "customer": "CUS-NONE"}})

    assert response.status_code == 201, response.json()
    assert response.json()["subject"] == {"kind": "document", "name": "source-of-funds.txt"}
    assert other.get(response.json()["url"]).status_code == 404
    assert unknown.status_code == 400
    assert "customer" in unknown.json()


def test_a_batch_is_stored_at_once_and_screened_by_a_real_worker(
    start_worker, test_queue, account, typology_model
):
    typology_model()
    client, _ = client_for("core-banking", ["aml:screen"])
    start_worker(test_queue)
    now = datetime.now(UTC)
    items = [
        transaction(account, f"B-{n}", amount="9500.00", booked_at=(now - timedelta(days=4 - n)).isoformat())
        for n in range(4)
    ] + [transaction(account, "B-card", amount="12.50", channel="card", direction="out", narrative="coffee")]

    accepted = post(client, "/api/aml/screen/batch", {"transactions": items})

    assert accepted.status_code == 202, accepted.json()
    url = accepted.json()["status_url"]
    wait_for(lambda: client.get(url).json()["status"] == "complete", 120, "the batch to be screened")
    body = client.get(url).json()
    assert body["screened"] == body["total"] == 5
    results = {r["external_id"]: r for r in body["results"]}
    assert "R01" in results["B-3"]["rules"]  # the fourth cash deposit just under 10,000 in four days
    assert results["B-card"]["rules"] == []
    assert Alert.objects.filter(screening__batch_id=body["id"]).count() == sum(
        1 for r in body["results"] if r["alert"]
    )
    assert ScreeningBatch.objects.get().finished_at is not None


def test_a_batch_with_one_bad_transaction_stores_none_and_names_its_index(payments, account):
    items = [transaction(account, "OK-1"), transaction(account, "BAD", account="NO-SUCH")]

    response = post(payments, "/api/aml/screen/batch", {"transactions": items})

    assert response.status_code == 400
    assert list(response.json()["transactions"]) == ["1"]
    assert not Transaction.objects.exists()
    assert not ScreeningBatch.objects.exists()


def test_a_batch_deleted_before_its_screening_is_reported_missing_not_failed():
    assert screen_batch_task.run(987654) == "missing"


def test_a_screening_request_never_fits_the_risk_calibration_it_answers_503_until_a_worker_has(
    payments, account, typology_model
):
    from aml.models import RiskCalibration
    from assistant.training.services import version_prepare

    version = typology_model()
    RiskCalibration.objects.all().delete()  # activated, its calibration not fitted yet
    key = str(uuid.uuid4())
    body = {"transaction": transaction(account)}

    waiting = post(payments, "/api/aml/screen", body, key)

    assert waiting.status_code == 503
    assert waiting["Retry-After"] == "30"
    assert f"risk calibration of aml-typology version {version.pk}" in waiting.json()["aml-typology"][0]
    assert not RiskCalibration.objects.exists()
    assert not Transaction.objects.exists()  # nothing half-stored: the same request can come again

    assert version_prepare(version.pk) == "prepared"  # what the inference worker does

    answered = post(payments, "/api/aml/screen", body, key)
    assert answered.status_code == 201, answered.json()
    assert RiskCalibration.objects.filter(model_version=version).count() == 1
