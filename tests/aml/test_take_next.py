"""Analysts taking the next alert at the same moment each get a different one, or none."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from aml.models import Alert, AuditEvent, Case
from aml.services.cases import alert_take_next
from tests.aml.conftest import analyst_create


def take_together(analysts: list[Any]) -> list[Alert | None]:
    """Each analyst takes the next alert from a thread of their own, all released at once."""
    barrier = threading.Barrier(len(analysts))
    taken: list[Alert | None] = [None] * len(analysts)
    errors: list[BaseException] = []

    def take(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            taken[index] = alert_take_next(analyst=analysts[index])
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(analysts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return taken


@pytest.mark.django_db(transaction=True)
def test_two_analysts_taking_at_once_get_different_alerts(django_user_model, raise_alert):
    alerts = [raise_alert(risk) for risk in (0.9, 0.8, 0.7)]
    ana, ben = analyst_create(django_user_model, "ana"), analyst_create(django_user_model, "ben")

    first, second = take_together([ana, ben])

    assert first is not None
    assert second is not None
    assert first.pk != second.pk
    assert {first.pk, second.pk} == {alerts[0].pk, alerts[1].pk}  # the two riskiest
    assert {(c.alert_id, c.assignee_id) for c in Case.objects.all()} == {
        (first.pk, ana.pk),
        (second.pk, ben.pk),
    }
    assert Alert.objects.get(pk=alerts[2].pk).status == Alert.Status.OPEN
    assert AuditEvent.objects.filter(action="alert.taken").count() == 2


@pytest.mark.django_db(transaction=True)
def test_with_one_open_alert_exactly_one_of_two_analysts_gets_it(django_user_model, raise_alert):
    alert = raise_alert()
    analysts = [analyst_create(django_user_model, "ana"), analyst_create(django_user_model, "ben")]

    taken = take_together(analysts)

    assert sorted(taken, key=lambda a: a is None) == [alert, None]
    case = Case.objects.get()
    assert case.alert == alert
    assert case.assignee == analysts[taken.index(alert)]
    assert AuditEvent.objects.filter(action="alert.taken").count() == 1
