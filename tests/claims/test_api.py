"""The claims API as integrating systems use it: keys and scopes, idempotency, validation, isolation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from assistant.core.errors import FieldErrors
from assistant.integrations.keys import api_key_revoke
from assistant.integrations.models import ApiKey, IdempotentRequest
from claims.models import Claim
from claims.services.submission import ClaimInput, claims_submit
from claims.services.triage import claim_triage
from tests.claims.conftest import system_with_key

pytestmark = pytest.mark.django_db


def claim_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": "CS-1001",
        "policy_number": "AUTO-2026-0001",
        "loss_date": "2026-05-03",
        "reported_date": "2026-05-04",
        "amount_claimed": "1850.00",
        "currency": "USD",
        "description": (
            "On 3 May 2026 my 2019 Toyota Corolla was rear-ended at a red light on Elm Street. "
            "The other driver, Mr John Carter, admitted fault. The bumper and boot need repair; "
            "the garage quotes $1,850. Policy AUTO-2026-0001."
        ),
    }
    return {**body, **overrides}


def post(client, key: str, body: Any, *, path: str = "/api/claims/", idempotency: str | None = "auto"):
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency is not None:
        headers["Idempotency-Key"] = str(uuid.uuid4()) if idempotency == "auto" else idempotency
    return client.post(path, body, content_type="application/json", headers=headers)


def get(client, key: str, path: str):
    return client.get(path, headers={"Authorization": f"Bearer {key}"})


def test_submission_is_accepted_with_a_status_url(client, policies, claims_system):
    response = post(client, claims_system[1], claim_body())

    assert response.status_code == 202
    claim = Claim.objects.get()
    assert response.json() == {
        "id": claim.pk,
        "external_id": "CS-1001",
        "outcome": "queued",
        "status_url": f"/api/claims/{claim.pk}",
    }
    assert response.headers["Location"] == f"/api/claims/{claim.pk}"
    assert get(client, claims_system[1], f"/api/claims/{claim.pk}").json()["outcome"] == "queued"


def test_without_a_key_the_api_answers_401_and_a_revoked_key_too(client, policies, claims_system):
    assert client.post("/api/claims/", claim_body(), content_type="application/json").status_code == 401
    api_key_revoke(ApiKey.objects.get())

    response = post(client, claims_system[1], claim_body())

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_key_without_the_write_scope_cannot_submit(client, policies):
    _, read_only = system_with_key("reader", ["claims:read"])

    response = post(client, read_only, claim_body())

    assert response.status_code == 403
    assert "claims:write" in response.json()["detail"]


def test_submission_needs_an_idempotency_key(client, policies, claims_system):
    response = post(client, claims_system[1], claim_body(), idempotency=None)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Claim.objects.exists()


def test_the_same_key_and_body_replay_the_first_response(client, policies, claims_system):
    first = post(client, claims_system[1], claim_body(), idempotency="key-1")
    again = post(client, claims_system[1], claim_body(), idempotency="key-1")

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1


def test_the_same_key_with_another_body_is_422(client, policies, claims_system):
    post(client, claims_system[1], claim_body(), idempotency="key-1")

    response = post(client, claims_system[1], claim_body(amount_claimed="9999.00"), idempotency="key-1")

    assert response.status_code == 422
    assert "different request body" in response.json()["Idempotency-Key"][0]
    assert Claim.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_claimed": "-5"}, "amount_claimed"),
        ({"amount_claimed": "abc"}, "amount_claimed"),
        ({"currency": "dollars"}, "currency"),
        ({"loss_date": "2026-13-45"}, "loss_date"),
        ({"loss_date": "2999-01-01", "reported_date": "2999-01-02"}, "loss_date"),
        ({"loss_date": "0001-01-01"}, "loss_date"),
        ({"reported_date": "2026-05-01"}, "reported_date"),
        ({"description": "The roof leaked \ud83d after the storm"}, "description"),
        ({"description": ""}, "description"),
        ({"policy_number": "NOPE-1"}, "policy_number"),
        ({"attachments": [{"name": "photo.jpg"}]}, "attachments"),
    ],
)
def test_invalid_claims_get_a_message_per_field_and_nothing_is_stored(
    client, policies, claims_system, overrides, field
):
    response = post(client, claims_system[1], claim_body(**overrides), idempotency="key-1")

    assert response.status_code == 400
    assert field in response.json()
    assert not Claim.objects.exists()
    assert not IdempotentRequest.objects.exists()  # the key stays free for the corrected request
    assert post(client, claims_system[1], claim_body(), idempotency="key-1").status_code == 202


def test_a_second_claim_with_the_same_external_id_is_a_conflict(client, policies, claims_system):
    post(client, claims_system[1], claim_body())

    response = post(client, claims_system[1], claim_body())

    assert response.status_code == 409
    assert "already submitted" in response.json()["external_id"][0]


def test_a_claim_racing_another_with_its_external_id_is_a_conflict(
    client, policies, claims_system, monkeypatch
):
    post(client, claims_system[1], claim_body())
    # The other request stored its claim after this one looked: only the database's constraint sees it.
    monkeypatch.setattr("claims.services.submission._taken", lambda system, external_ids: set())

    response = post(client, claims_system[1], claim_body())

    assert response.status_code == 409
    assert "at the same moment" in response.json()["external_id"][0]
    assert Claim.objects.count() == 1


def test_a_batch_is_stored_whole_or_not_at_all(client, policies, claims_system):
    good = [claim_body(external_id=f"CS-{n}") for n in range(3)]
    bad = [*good, claim_body(external_id="CS-9", policy_number="NOPE-1")]

    refused = post(client, claims_system[1], {"claims": bad}, path="/api/claims/batch")
    accepted = post(client, claims_system[1], {"claims": good}, path="/api/claims/batch")

    assert refused.status_code == 400
    assert list(refused.json()["claims"]) == ["3"]
    assert accepted.status_code == 202
    assert [c["external_id"] for c in accepted.json()["claims"]] == ["CS-0", "CS-1", "CS-2"]
    assert Claim.objects.count() == 3


def test_a_batch_over_the_limit_is_refused(client, policies, claims_system, settings):
    body = {"claims": [claim_body(external_id=f"CS-{n}") for n in range(101)]}

    response = post(client, claims_system[1], body, path="/api/claims/batch")

    assert response.status_code == 400
    assert "claims" in response.json()


def test_a_system_sees_only_its_own_claims(client, policies, claims_system):
    _, other_key = system_with_key("other-core")
    claim_id = post(client, claims_system[1], claim_body()).json()["id"]
    post(client, other_key, claim_body())  # the same external id is fine in another system

    assert get(client, other_key, f"/api/claims/{claim_id}").status_code == 404
    assert get(client, other_key, f"/api/claims/{claim_id}/report").status_code == 404
    mine = get(client, claims_system[1], "/api/claims/").json()["results"]
    theirs = get(client, other_key, "/api/claims/").json()["results"]
    assert [c["id"] for c in mine] == [claim_id]
    assert claim_id not in [c["id"] for c in theirs]


def test_a_triaged_claim_reads_as_a_claim_response(client, policies, claims_system, claims_models):
    versions = claims_models()
    claim_id = post(client, claims_system[1], claim_body()).json()["id"]
    claim_triage(claim_id)

    body = get(client, claims_system[1], f"/api/claims/{claim_id}").json()

    assert body["resourceType"] == "ClaimResponse"
    assert body["outcome"] == "complete"
    assert body["identifier"] == {"system": "claims-core", "value": "CS-1001"}
    assert body["model_versions"] == {task: v.pk for task, v in versions.items()}
    assert body["triage"]["route"] in {"fast_track", "standard", "specialist", "special_investigation"}
    assert 0 <= body["triage"]["fraud_score"] <= 1
    kinds = {f["kind"] for f in body["extracted_fields"]}
    assert {"date", "amount", "policy_number", "vehicle", "party"} <= kinds
    assert body["policy_check"]["passed"] is True
    assert body["policy_check"]["payable"] == {"value": "1350.00", "currency": "USD"}
    html = get(client, claims_system[1], body["report"]["html"])
    pdf = get(client, claims_system[1], body["report"]["pdf"])
    assert b"Policy check" in html.content
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_without_active_models_the_outcome_is_partial(client, policies, claims_system):
    claim_id = post(client, claims_system[1], claim_body()).json()["id"]
    claim_triage(claim_id)

    body = get(client, claims_system[1], f"/api/claims/{claim_id}").json()

    assert body["outcome"] == "partial"
    assert body["triage"]["route"] == "standard"
    assert body["triage"]["fraud_score"] is None
    assert "no active model version" in body["triage"]["steps"]["claims-route"]
    assert body["policy_check"]["passed"] is True


def test_an_api_key_opens_the_schema_but_not_the_apis_for_people(client, claims_system):
    assert get(client, claims_system[1], "/api/schema/").status_code == 200
    assert get(client, claims_system[1], "/api/advisory/clients/").status_code == 401
    assert get(client, claims_system[1], "/api/chat/1/").status_code == 404  # as for anyone anonymous


def test_the_date_rules_hold_for_every_caller_not_only_the_api(policies, claims_system):
    tomorrow = timezone.localdate() + timedelta(days=1)
    item = ClaimInput(
        external_id="DEMO-1",
        policy_number="AUTO-2026-0001",
        loss_date=tomorrow,
        reported_date=tomorrow,
        amount_claimed=Decimal("100.00"),
        currency="USD",
        description="A stone chipped the windscreen.",
    )

    with pytest.raises(FieldErrors) as refused:
        claims_submit(system=claims_system[0], items=[item, item], batch=True)

    problems = {
        "loss_date": ["the loss date is in the future"],
        "reported_date": ["the reported date is in the future"],
    }
    assert refused.value.errors["claims"]["0"] == problems
    assert refused.value.errors["claims"]["1"]["external_id"] == [
        "the external id 'DEMO-1' appears twice in this batch"
    ]
    assert not Claim.objects.exists()


def test_the_size_limits_are_the_settings_as_they_are_when_a_request_comes(
    client, policies, claims_system, settings
):
    settings.CLAIMS_DESCRIPTION_MAX_CHARS = 40
    settings.CLAIMS_BATCH_MAX = 2

    long = post(client, claims_system[1], claim_body())
    batch = post(
        client,
        claims_system[1],
        {"claims": [claim_body(external_id=f"CS-{n}", description="Hail.") for n in range(3)]},
        path="/api/claims/batch",
    )

    assert long.status_code == 400
    assert long.json()["description"] == ["Ensure this field has no more than 40 characters."]
    assert batch.status_code == 400
    assert "claims" in batch.json()
    assert not Claim.objects.exists()


def test_a_claim_sent_while_the_broker_is_down_is_accepted_and_its_triage_kept(
    client, policies, claims_system, own_broker, transactional_db
):
    """Committed for real, so the triage is sent inside the request, as in production."""
    from assistant.core.models import UnsentTask

    own_broker.stop()
    response = post(client, claims_system[1], claim_body())

    assert response.status_code == 202, response.content
    claim = Claim.objects.get()
    assert response.json()["outcome"] == "queued"
    assert list(UnsentTask.objects.values_list("name", "args")) == [("claims.triage", [claim.pk])]
