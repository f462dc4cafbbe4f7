"""The adjusters' pages: only adjusters; the queue, a claim's evidence, accepting or overriding the
triage once, model accuracy over time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from assistant.core.errors import Conflict
from claims.demo import synthetic_claim_input, synthetic_policies_store
from claims.models import Decision, Route
from claims.selectors import agreement_by_day
from claims.services import decisions
from claims.services.decisions import decision_accept
from claims.services.submission import claims_submit
from claims.synthetic import generate

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page's text, tags and surplus whitespace left out, to read as the adjuster does."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def other_route(claim) -> str:
    return next(r for r in Route.values if r != claim.triage.route)


def override(client, claim, **fields):
    data = {"action": "override", "override-line_of_business": claim.policy.line_of_business, **fields}
    return client.post(f"/claims/{claim.pk}/", data)


@pytest.mark.parametrize("path", ["/claims/", "/claims/models/", "/claims/1/", "/claims/1/report"])
def test_people_without_the_adjuster_role_get_403(client, django_user_model, path):
    client.force_login(django_user_model.objects.create_user("alice"))

    assert client.get(path).status_code == 403


def test_the_queue_lists_triaged_claims_waiting_for_a_decision(client, adjuster, triaged):
    client.force_login(adjuster)

    page = client.get("/claims/").content.decode()

    for claim in triaged:
        assert claim.external_id in page


def test_a_claim_page_shows_the_evidence_and_offers_accept_and_override(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]

    page = client.get(f"/claims/{claim.pk}/").content.decode()

    assert 'class="field field-' in page  # the extracted fields are marked in the description
    assert "Policy check" in page
    assert f"Accept: {claim.triage.get_route_display()}" in page
    assert 'name="override-note"' in page
    route_select = re.search(r'<select name="override-route".*?</select>', page, re.S)[0]
    assert f'value="{claim.triage.route}"' not in route_select  # overriding to the same route is no override


def test_accepting_takes_the_triage_route_and_confirms_it(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]

    response = client.post(f"/claims/{claim.pk}/", {"action": "accept", "accept-note": ""})

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.route, decision.adjuster, decision.note) == (claim.triage.route, adjuster, "")
    assert decision.overridden == []
    assert decision.accepted
    queue = text(client.get(response["Location"]))
    assert f"Claim {claim.external_id} accepted as {claim.triage.get_route_display()}." in queue
    assert claim.external_id not in text(client.get("/claims/")).split("Recently decided")[0]


def test_an_override_without_a_note_is_refused_next_to_the_note(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]
    route = other_route(claim)

    response = override(client, claim, **{"override-route": route, "override-note": "   "})

    assert response.status_code == 400
    assert not Decision.objects.exists()
    page = response.content.decode()
    error = re.search(r'<p class="field-error" id="id_override-note-error">(.*?)</p>', page)
    assert error
    assert "An override needs a note" in unescape(error[1])
    assert 'aria-describedby="id_override-note-error"' in page
    assert f'<option value="{route}" selected>' in page  # what the adjuster chose is kept


def test_an_override_with_a_note_is_recorded_and_confirmed(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]
    route = other_route(claim)

    response = override(client, claim, **{"override-route": route, "override-note": "seen the photos"})

    assert response.status_code == 302
    decision = Decision.objects.get()
    assert (decision.route, decision.note, decision.adjuster) == (route, "seen the photos", adjuster)
    assert "route" in decision.overridden
    assert not decision.accepted
    queue = text(client.get(response["Location"]))
    assert f"Claim {claim.external_id} overridden to {Route(route).label}." in queue
    accuracy = client.get("/claims/models/").content.decode()
    assert "claims-route" in accuracy
    assert claim.external_id in accuracy


def test_an_override_to_the_triage_route_or_an_unknown_one_is_refused_next_to_the_route(
    client, adjuster, triaged
):
    client.force_login(adjuster)
    claim = triaged[0]

    for route in (claim.triage.route, "teleport"):
        response = override(client, claim, **{"override-route": route, "override-note": "why not"})

        assert response.status_code == 400
        error = re.search(r'id="id_override-route-error">(.*?)</p>', response.content.decode())
        assert error
        assert "Choose a route other than the triage" in unescape(error[1])
    assert not Decision.objects.exists()


def test_a_decided_claim_shows_its_decision_and_no_form(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]
    route = other_route(claim)
    override(client, claim, **{"override-route": route, "override-note": "the garage says write-off"})

    response = client.get(f"/claims/{claim.pk}/")

    page = text(response)
    decided = page.split("Decision: ")[1]
    assert decided.startswith("route overridden")
    assert f"Route {Route(route).label} (triage: {claim.triage.get_route_display()})" in decided
    assert "Decided by cal" in decided
    assert f"When {Decision.objects.get().decided_at:%Y-%m-%d %H:%M} UTC" in decided
    assert "Note the garage says write-off" in decided
    assert 'name="action"' not in response.content.decode()


def test_a_second_decision_is_refused_and_the_first_stands(client, adjuster, triaged):
    client.force_login(adjuster)
    claim = triaged[0]
    client.post(f"/claims/{claim.pk}/", {"action": "accept"})
    first = Decision.objects.get()

    again = override(client, claim, **{"override-route": other_route(claim), "override-note": "no, wait"})
    empty = override(client, claim)  # refused as decided, not for its missing fields

    for response in (again, empty):
        assert response.status_code == 409
        assert f"Not recorded. Claim {claim.external_id} was already decided by cal" in text(response)
        assert 'name="action"' not in response.content.decode()
    assert list(Decision.objects.values_list("pk", "route", "note")) == [(first.pk, first.route, "")]


def test_two_adjusters_deciding_at_once_get_one_decision(adjuster, triaged, monkeypatch):
    claim = triaged[0]
    monkeypatch.setattr(decisions, "decision_allowed", lambda claim: None)  # both passed the check
    decision_accept(claim=claim, adjuster=adjuster)

    with pytest.raises(Conflict, match="already decided"):
        decision_accept(claim=claim, adjuster=adjuster, note="me too")
    assert Decision.objects.count() == 1


def test_a_post_without_a_known_action_is_refused_with_a_message(client, adjuster, triaged):
    client.force_login(adjuster)

    response = client.post(f"/claims/{triaged[0].pk}/", {"route": "standard"})

    assert response.status_code == 400
    assert "Refused. Choose Accept or Override." in text(response)
    assert not Decision.objects.exists()


def test_a_claim_still_in_triage_shows_why_it_cannot_be_decided(client, adjuster, claims_system):
    policies, generated = generate(1, seed=5)
    synthetic_policies_store(policies)
    claim = claims_submit(system=claims_system[0], items=[synthetic_claim_input(generated[0])], batch=True)[0]
    client.force_login(adjuster)

    response = client.post(f"/claims/{claim.pk}/", {"action": "accept"})

    assert response.status_code == 400
    assert "it can be decided once triaged" in text(response)
    assert not Decision.objects.exists()


@pytest.mark.parametrize("decided", ["abc", "²", "99999999999999999999", "-1", ""])
def test_a_queue_address_with_a_bad_confirmation_shows_the_queue_without_one(client, adjuster, decided):
    client.force_login(adjuster)

    response = client.get("/claims/", {"decided": decided})

    assert response.status_code == 200
    assert 'id="confirmation"' not in response.content.decode()


def test_model_accuracy_explains_until_two_days_of_decisions_then_draws_a_line_a_model(
    client, adjuster, triaged
):
    client.force_login(adjuster)
    assert "no claim has been decided yet" in text(client.get("/claims/models/"))
    for claim in triaged:
        client.post(f"/claims/{claim.pk}/", {"action": "accept"})

    one_day = text(client.get("/claims/models/"))
    days = [datetime(2026, 3, day, 15, tzinfo=UTC) for day in (2, 2, 5)]
    for decision, day in zip(Decision.objects.order_by("pk"), days, strict=True):
        Decision.objects.filter(pk=decision.pk).update(decided_at=day)
    page = client.get("/claims/models/").content.decode()

    assert "Not enough decisions yet" in one_day
    assert "made on 1 day." in one_day
    chart = re.search(r'<figure id="accuracy-over-time".*?</figure>', page, re.S)[0]
    assert chart.count("<polyline") == len(agreement_by_day()) >= 1
    assert "2026-03-02" in chart
    assert "2026-03-05" in chart
    first_day = [d for d in Decision.objects.select_related("claim__triage") if d.decided_at.day == 2]
    route_model = [d for d in first_day if d.claim.triage.model_route]
    if route_model:
        agreed = sum(d.claim.triage.model_route == d.route for d in route_model) / len(route_model)
        assert re.search(rf"route v\d+: {agreed:.2f} at 2026-03-02", chart)


def test_the_report_opens_as_html_and_pdf(client, adjuster, triaged):
    client.force_login(adjuster)

    html = client.get(f"/claims/{triaged[0].pk}/report")
    pdf = client.get(f"/claims/{triaged[0].pk}/report.pdf")

    assert b"Claim report" in html.content
    assert pdf.content.startswith(b"%PDF")


def test_an_unknown_claim_is_a_404_page(client, adjuster):
    client.force_login(adjuster)

    assert client.get("/claims/999/").status_code == 404
    assert client.get("/claims/99999999999999999999/").status_code == 404
