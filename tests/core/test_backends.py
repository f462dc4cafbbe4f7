"""The permissions backend gives what Django's model backend gives, in one query."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User

from assistant.core.backends import PermissionsBackend

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def test_a_users_own_and_group_permissions_in_one_query(django_assert_num_queries):
    user = User.objects.create_user("ann")
    user.user_permissions.add(Permission.objects.get(codename="view_collection"))
    group = Group.objects.create(name="readers")
    group.permissions.add(Permission.objects.get(codename="read_all_collections"))
    user.groups.add(group)

    reader = fresh(user)
    with django_assert_num_queries(1):
        granted = PermissionsBackend().get_all_permissions(reader)

    assert granted == ModelBackend().get_all_permissions(fresh(user))
    assert {"knowledge.view_collection", "knowledge.read_all_collections"} <= granted
    assert fresh(user).has_perm("knowledge.read_all_collections")


def test_superusers_have_every_permission_and_inactive_users_none():
    boss = User.objects.create_superuser("boss")
    gone = User.objects.create_user("gone", is_active=False)
    gone.user_permissions.add(Permission.objects.get(codename="view_collection"))

    ours, django = PermissionsBackend(), ModelBackend()
    assert ours.get_all_permissions(fresh(boss)) == django.get_all_permissions(fresh(boss))
    assert ours.get_all_permissions(fresh(gone)) == set()
