from datetime import date
from decimal import Decimal

from assistant.core.demo import demo_loader
from claims.models import LineOfBusiness, Policy

POLICIES = [
    {
        "number": "AUTO-2026-0001",
        "holder_name": "Daniel Novak",
        "line_of_business": LineOfBusiness.AUTO,
        "effective_from": date(2026, 1, 1),
        "effective_to": date(2026, 12, 31),
        "covered_perils": ["collision", "theft", "fire", "glass", "third-party liability"],
        "exclusions": ["racing", "driving under the influence", "wear and tear"],
        "limit": Decimal("50000.00"),
        "deductible": Decimal("500.00"),
    },
    {
        "number": "HOME-2026-0002",
        "holder_name": "Sofia Lindqvist",
        "line_of_business": LineOfBusiness.HOME,
        "effective_from": date(2026, 3, 1),
        "effective_to": date(2027, 2, 28),
        "covered_perils": ["fire", "storm", "burst pipe", "burglary"],
        "exclusions": ["flood", "gradual leaks", "earthquake"],
        "limit": Decimal("400000.00"),
        "deductible": Decimal("1000.00"),
    },
    {
        "number": "RENT-2026-0003",
        "holder_name": "Omar Haddad",
        "line_of_business": LineOfBusiness.RENTERS,
        "effective_from": date(2026, 6, 15),
        "effective_to": date(2027, 6, 14),
        "covered_perils": ["fire", "theft", "water damage"],
        "exclusions": ["flood", "pets"],
        "limit": Decimal("25000.00"),
        "deductible": Decimal("250.00"),
    },
]


@demo_loader("claims")
def load() -> str:
    for row in POLICIES:
        Policy.objects.update_or_create(number=row["number"], defaults=row)
    return f"{len(POLICIES)} policies"
