from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from advisory.models import Client, Holding
from advisory.services import letter_create
from assistant.core import roles
from assistant.generation import backend
from assistant.knowledge.models import Collection
from assistant.knowledge.services.submission import collection_get_or_create

PRODUCTS = (
    "# Short Duration Bond Fund\n\n"
    "The fund invests in investment-grade bonds maturing within three years. "
    "The ongoing charge is 0.25% a year and income is paid quarterly.\n\n"
    "## Risk\n\nThe fund suits cautious investors with a horizon of at least two years. "
    "Its risk indicator is 2 on a scale of 7."
)
RESEARCH = (
    "# Rates outlook\n\nCentral banks have started to cut policy rates. "
    "Falling rates lift bond prices, and the gain is larger for longer maturities."
)


@pytest.fixture(autouse=True)
def fresh_backend() -> None:
    """Each test reads the backend from its own settings."""
    backend.cache_clear()


@pytest.fixture
def advisors(db) -> dict[str, User]:
    """alice and bob are advisors, each with one client; eve has no role."""
    group = Group.objects.get(name=roles.ADVISOR)
    people = {name: User.objects.create_user(name, password="pw") for name in ("alice", "bob", "eve")}
    group.user_set.add(people["alice"], people["bob"])
    return people


@pytest.fixture
def clients(advisors) -> dict[str, Client]:
    maria = Client.objects.create(
        advisor=advisors["alice"],
        reference="ADV-1",
        full_name="Maria Keller",
        birth_year=1968,
        income_band="100k_250k",
        risk_tolerance="moderate",
        goals="Retire at 62 with the mortgage paid off.",
        horizon_years=6,
        restrictions="No tobacco.",
    )
    Holding.objects.create(
        client=maria,
        instrument="Short Duration Bond Fund",
        asset_class="bond",
        value=Decimal("140000"),
        account_number="DE44500105175407324931",
    )
    letter_create(
        client=maria,
        written_on=date(2026, 3, 4),
        author="client",
        text="I plan to retire at 62. I do not want to lose what we have built; markets make me nervous.",
    )
    priya = Client.objects.create(
        advisor=advisors["bob"],
        reference="ADV-2",
        full_name="Priya Raman",
        birth_year=1955,
        income_band="over_250k",
        risk_tolerance="conservative",
        horizon_years=10,
    )
    return {"maria": maria, "priya": priya}


@pytest.fixture
def knowledge(advisors, index_files: Callable[..., object]) -> dict[str, Collection]:
    products = collection_get_or_create(name="products", reader_groups=[roles.ADVISOR])
    research = collection_get_or_create(name="research", reader_groups=[roles.ADVISOR])
    index_files(products, [("short-duration-bond-fund.md", PRODUCTS.encode())])
    index_files(research, [("rates-outlook.md", RESEARCH.encode())])
    return {"products": products, "research": research}
