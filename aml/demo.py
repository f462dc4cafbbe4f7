from datetime import date

from aml.models import Customer, CustomerKind, RiskRating
from assistant.core.demo import demo_loader

CUSTOMERS = [
    {
        "reference": "CUS-0001",
        "name": "Northwind Trading Ltd",
        "kind": CustomerKind.BUSINESS,
        "country": "GB",
        "risk_rating": RiskRating.MEDIUM,
        "onboarded_on": date(2023, 4, 12),
    },
    {
        "reference": "CUS-0002",
        "name": "Elena Petrova",
        "kind": CustomerKind.INDIVIDUAL,
        "country": "DE",
        "risk_rating": RiskRating.LOW,
        "onboarded_on": date(2021, 9, 3),
    },
    {
        "reference": "CUS-0003",
        "name": "Harbor Exchange Services",
        "kind": CustomerKind.BUSINESS,
        "country": "PA",
        "risk_rating": RiskRating.HIGH,
        "onboarded_on": date(2025, 11, 20),
    },
]


@demo_loader("aml")
def load() -> str:
    for row in CUSTOMERS:
        Customer.objects.update_or_create(reference=row["reference"], defaults=row)
    return f"{len(CUSTOMERS)} customers"
