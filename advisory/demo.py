from advisory.models import Client, IncomeBand, RiskTolerance
from assistant.core.demo import demo_loader, demo_user

CLIENTS = [
    {
        "advisor": "alice",
        "reference": "ADV-1001",
        "full_name": "Maria Keller",
        "birth_year": 1968,
        "income_band": IncomeBand.FROM_100K_TO_250K,
        "risk_tolerance": RiskTolerance.MODERATE,
        "goals": "Retire at 62 with the mortgage paid off; fund a grandchild's education.",
        "horizon_years": 6,
        "restrictions": "No tobacco or weapons manufacturers.",
    },
    {
        "advisor": "alice",
        "reference": "ADV-1002",
        "full_name": "Jonas Brandt",
        "birth_year": 1991,
        "income_band": IncomeBand.FROM_50K_TO_100K,
        "risk_tolerance": RiskTolerance.GROWTH,
        "goals": "Save a deposit for a flat within five years, then build a long-term equity portfolio.",
        "horizon_years": 25,
        "restrictions": "",
    },
    {
        "advisor": "bob",
        "reference": "ADV-2001",
        "full_name": "Priya Raman",
        "birth_year": 1955,
        "income_band": IncomeBand.OVER_250K,
        "risk_tolerance": RiskTolerance.CONSERVATIVE,
        "goals": "Preserve capital and draw a steady income; leave an estate to two children.",
        "horizon_years": 10,
        "restrictions": "Keep at least two years of spending in cash.",
    },
]


@demo_loader("advisory")
def load() -> str:
    for row in CLIENTS:
        fields = {**row, "advisor": demo_user(row["advisor"])}
        Client.objects.update_or_create(reference=row["reference"], defaults=fields)
    return f"{len(CLIENTS)} clients for alice and bob"
