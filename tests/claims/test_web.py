"""The adjusters' pages: only adjusters; the queue, a claim's evidence, a decision, model accuracy."""

from __future__ import annotations

import pytest

from claims.models import Decision, Route

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/claims/", "/claims/models/", "/claims/1/", "/claims/1/report"])
def test_people_without_the_adjuster_role_get_403(client, django_user_model, path):
    client.force_login(django_user_model.objects.create_user("alice"))

    assert client.get(path).status_code == 403


def test_the_queue_lists_triaged_claims_waiting_for_a_decision(client, adjuster, triaged):
    client.force_login(adjuster)

    page = client.get("/claims/").content.decode()

    for claim in triaged:
        assert claim.external_id in page


def test_a_claim_page_shows_the_evidence_and_an_override_is_recorded(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]
    page = client.get(f"/claims/{claim.pk}/").content.decode()
    other = next(r for r in Route.values if r != claim.triage.route)

    response = client.post(
        f"/claims/{claim.pk}/",
        {"route": other, "line_of_business": claim.policy.line_of_business, "note": "seen the photos"},
    )

    assert 'class="field field-' in page  # the extracted fields are marked in the description
    assert "Policy check" in page
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.route == other
    assert decision.adjuster == adjuster
    assert "route" in decision.overridden
    accuracy = client.get("/claims/models/").content.decode()
    assert "claims-route" in accuracy
    assert claim.external_id in accuracy


def test_a_bad_decision_is_refused_with_a_message(client, adjuster, triaged):
    client.force_login(adjuster)

    response = client.post(f"/claims/{triaged[0].pk}/", {"route": "teleport", "line_of_business": "auto"})

    assert response.status_code == 400
    assert "Unknown route" in response.content.decode()
    assert not Decision.objects.exists()


def test_the_report_opens_as_html_and_pdf(client, adjuster, triaged):
    client.force_login(adjuster)

    html = client.get(f"/claims/{triaged[0].pk}/report")
    pdf = client.get(f"/claims/{triaged[0].pk}/report.pdf")

    assert b"Claim report" in html.content
    assert pdf.content.startswith(b"%PDF")


def test_an_unknown_claim_is_a_404_page(client, adjuster):
    client.force_login(adjuster)

    assert client.get("/claims/999/").status_code == 404
