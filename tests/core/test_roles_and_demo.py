import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import override_settings

from advisory.models import Client
from aml.models import Customer
from assistant.core import roles
from assistant.integrations.models import PersonalToken
from claims.demo import DEMO_CLAIMS, DEMO_SEED, POLICIES
from claims.models import Claim, Policy
from claims.synthetic import generate


def _permissions(group: Group) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


@pytest.mark.django_db
def test_every_role_is_a_group_with_exactly_its_granted_permissions():
    groups = {group.name: group for group in Group.objects.all()}

    assert set(groups) == set(roles.ROLES)
    for name, group in groups.items():
        assert _permissions(group) == roles.role_permissions(name)
    assert "advisory.view_client" in _permissions(groups[roles.ADVISOR])
    assert "advisory.view_client" not in _permissions(groups[roles.AML_ANALYST])


@pytest.mark.django_db
def test_demo_users_get_their_role_and_the_api_persona_a_token(capsys):
    call_command("create_demo_users")

    out = capsys.readouterr().out
    alice = User.objects.get(username="alice")
    assert alice.groups.get().name == roles.ADVISOR
    assert alice.check_password("finassist-demo")
    assert not alice.is_staff
    assert User.objects.get(username="kim").is_staff
    assert User.objects.get(username="admin").is_superuser
    token = re.search(r"API token of alice: (\S+)", out)[1]
    assert f"Token {token}" in out
    assert token not in str(list(PersonalToken.objects.values()))  # only its hash is stored
    assert "alice      finassist-demo   advisor" in out


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_data_loads_idempotently_for_the_demo_advisors():
    call_command("create_demo_users")
    call_command("load_demo")
    call_command("load_demo")

    assert Client.objects.count() == 3
    assert set(Client.objects.values_list("advisor__username", flat=True)) == {"alice", "bob"}
    assert Policy.objects.count() == len(POLICIES) + len(
        {c.policy_number for c in generate(DEMO_CLAIMS, seed=DEMO_SEED)[1]}
    )
    assert Claim.objects.count() == DEMO_CLAIMS  # submitted once, however often the demo loads
    assert Customer.objects.count() == 3


@pytest.mark.django_db
def test_demo_data_without_demo_users_is_a_clear_error():
    with pytest.raises(CommandError, match="run create_demo_users first"):
        call_command("load_demo")


@pytest.mark.django_db
@override_settings(PRODUCTION=True)
def test_demo_users_are_refused_in_production():
    with pytest.raises(CommandError, match="refused when FINASSIST_ENVIRONMENT=production"):
        call_command("create_demo_users")
    assert not User.objects.exists()
