from datetime import date
from decimal import Decimal
from typing import Any

from advisory.models import Client, Holding, IncomeBand, Letter, RiskTolerance
from advisory.services import letter_create
from assistant.core.demo import demo_loader, demo_user

CLIENTS: list[dict[str, Any]] = [
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

# (client, instrument, asset class, value, account number); products named here are in the
# demo knowledge base (assistant/knowledge/demo_data/products).
HOLDINGS = [
    ("ADV-1001", "Global Equity Index Fund", Holding.AssetClass.EQUITY, "182000", "DE44500105175407324931"),
    ("ADV-1001", "Short Duration Bond Fund", Holding.AssetClass.BOND, "140000", "DE44500105175407324931"),
    ("ADV-1001", "Current account", Holding.AssetClass.CASH, "38000", "DE02120300000000202051"),
    ("ADV-1001", "Rental flat, Leipzig", Holding.AssetClass.REAL_ESTATE, "210000", ""),
    ("ADV-1002", "Global Equity Index Fund", Holding.AssetClass.EQUITY, "41000", "DE89370400440532013000"),
    ("ADV-1002", "Instant-access savings", Holding.AssetClass.CASH, "26500", "DE89370400440532013001"),
    ("ADV-1002", "Employer shares (vested)", Holding.AssetClass.EQUITY, "12800", ""),
    ("ADV-2001", "Short Duration Bond Fund", Holding.AssetClass.BOND, "620000", "GB33BUKB20201555555555"),
    (
        "ADV-2001",
        "Sustainable Balanced Portfolio",
        Holding.AssetClass.ALTERNATIVE,
        "410000",
        "GB33BUKB20201555555556",
    ),
    ("ADV-2001", "Money market deposit", Holding.AssetClass.CASH, "240000", "GB33BUKB20201555555557"),
]

# Letters written for this project; the people in them are fictional.
LETTERS = [
    (
        "ADV-1001",
        date(2026, 3, 4),
        "client",
        "Dear Ms Okafor, thank you for the review. Since my husband retired last autumn we rely more on "
        "my salary, and I plan to retire at 62 with the mortgage paid off. I do not want to lose what we "
        "have built: last year's swings in the equity fund made me nervous about markets. Our "
        "granddaughter was born in January and we would like to fund her education in about fifteen "
        "years. We also own a rental flat in Leipzig that we may sell within five years. "
        "Kind regards, Maria Keller (client number ADV-1001, account DE44500105175407324931)",
    ),
    (
        "ADV-1001",
        date(2026, 9, 18),
        "advisor",
        "Call note: Maria asked whether the Short Duration Bond Fund still suits her now that rates are "
        "falling. She remains cautious and wants a steady income from the bond fund until retirement. "
        "No change to her exclusions of tobacco and weapons manufacturers.",
    ),
    (
        "ADV-1002",
        date(2026, 5, 12),
        "client",
        "Hi! I got a promotion in April, so I can save more each month. The plan is to buy a flat in "
        "Hamburg in the next four years, and after that I want to build a long-term portfolio of index "
        "funds and ETFs. I am comfortable with risk and market swings as long as the deposit is safe. "
        "Should I keep my vested employer shares? Best, Jonas",
    ),
    (
        "ADV-2001",
        date(2026, 2, 20),
        "client",
        "Dear Mr Adler, my brother passed away in December and I inherited his share of the family "
        "house, which I intend to sell next year. I want to keep at least two years of spending in cash "
        "and draw a steady income from the bonds. I am a conservative investor and cannot afford to lose "
        "capital at my age; I also want to leave an estate to my two children. Yours, Priya Raman "
        "(priya.raman@example.com, +44 20 7946 0958)",
    ),
]


@demo_loader("advisory")
def load() -> str:
    for row in CLIENTS:
        fields = {**row, "advisor": demo_user(row["advisor"])}
        Client.objects.update_or_create(reference=row["reference"], defaults=fields)
    clients = {
        client.reference: client
        for client in Client.objects.filter(reference__in=[r["reference"] for r in CLIENTS])
    }
    for reference, instrument, asset_class, value, account in HOLDINGS:
        Holding.objects.update_or_create(
            client=clients[reference],
            instrument=instrument,
            defaults={"asset_class": asset_class, "value": Decimal(value), "account_number": account},
        )
    for reference, written_on, author, text in LETTERS:
        client = clients[reference]
        if not Letter.objects.filter(client=client, written_on=written_on, author=author).exists():
            letter_create(client=client, written_on=written_on, author=author, text=text)
    return f"{len(CLIENTS)} clients for alice and bob, {len(HOLDINGS)} holdings, {len(LETTERS)} letters"
