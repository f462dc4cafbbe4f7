import pytest
from django.contrib.auth.models import Group, User

from assistant.celery import app
from assistant.core import roles
from assistant.knowledge.models import Collection
from assistant.knowledge.services.submission import collection_get_or_create
from tests.support import retrieval


@pytest.fixture
def personas(db) -> dict[str, User]:
    """alice and bob are advisors; carol reads one collection as a user; dave has no role."""
    advisors = Group.objects.get(name=roles.ADVISOR)
    people = {
        name: User.objects.create_user(name, password="pw") for name in ("alice", "bob", "carol", "dave")
    }
    advisors.user_set.add(people["alice"], people["bob"])
    people["kim"] = User.objects.create_user("kim", password="pw", is_staff=True)
    Group.objects.get(name=roles.KNOWLEDGE_MANAGER).user_set.add(people["kim"])
    return people


@pytest.fixture
def library(personas, index_files) -> dict[str, Collection]:
    """`funds` is read by advisors, `private` only by carol."""
    funds = collection_get_or_create(name="funds", reader_groups=[roles.ADVISOR])
    private = collection_get_or_create(name="private")
    private.reader_users.add(personas["carol"])
    index_files(
        funds,
        [
            (
                "equity.md",
                b"# Equity fund\n\nThe ongoing charge is 0.18% a year.\n\n## Risk\n\nStocks can fall 30%.",
            ),
            ("bonds.md", b"# Bond fund\n\nShort bonds pay quarterly income with low rate risk."),
        ],
    )
    index_files(private, [("board.md", b"# Board minutes\n\nThe bond fund charge will be cut next year.")])
    return {"funds": funds, "private": private}


@pytest.fixture
def eager_tasks():
    """Tasks run in the test's process when sent."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def codes(index_files) -> Collection:
    """Documents asked about by code names their text never uses (tests.support.retrieval)."""
    collection = collection_get_or_create(name="codes")
    index_files(collection, retrieval.files())
    return collection
