import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings

from aml.models import (
    Account,
    AccountKind,
    Channel,
    Customer,
    CustomerKind,
    Direction,
    RiskRating,
    Transaction,
)
from aml.services.screening import waiting_screen
from assistant.core import roles
from assistant.core.demo import demo_loader
from assistant.core.errors import ApplicationError
from assistant.knowledge.services.indexing import documents_index
from assistant.knowledge.services.lexicon import lexicon_refresh
from assistant.knowledge.services.submission import collection_get_or_create, files_submit
from assistant.training.inference import ModelNotReady, NoActiveModel

logger = logging.getLogger("finassist.aml")

GUIDANCE = Path(__file__).resolve().parent / "data" / "guidance"
GUIDANCE_COLLECTION = "aml-guidance"

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

NORTHWIND = "GB82NWTR40051212345678"
HARBOR = "PA19HXES00000000184"
ACCOUNTS = [
    {
        "customer": "CUS-0001",
        "number": NORTHWIND,
        "currency": "GBP",
        "opened_on": date(2023, 4, 20),
        "kind": AccountKind.BUSINESS,
    },
    {
        "customer": "CUS-0003",
        "number": HARBOR,
        "currency": "USD",
        "opened_on": date(2025, 11, 25),
        "kind": AccountKind.BUSINESS,
    },
]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


# Northwind trades normally, bar one payment to Iran (high-risk jurisdiction, round amount).
# Harbor takes four cash deposits just under 10,000 in five days (structuring), then wires most of
# it to Myanmar within two days (rapid movement, high-risk jurisdiction, round amount).
# Each: external id, booked at, direction, amount, channel, counterparty, its country, narrative.
IN, OUT = Direction.IN, Direction.OUT
CASH_DEPOSIT = "Cash deposit at a branch"
TRANSACTIONS = {
    NORTHWIND: [
        ("NW-1001", _at(2, 10, 15), IN, "48250.00", Channel.WIRE, "Contoso Retail plc", "GB", "INV-8812"),
        ("NW-1002", _at(3, 9, 40), OUT, "12430.18", Channel.ACH, "Fabrikam Logistics", "GB", "freight"),
        ("NW-1003", _at(4, 13, 5), OUT, "312.40", Channel.CARD, "Office Supplies Direct", "GB", "stationery"),
        ("NW-1004", _at(5, 16, 30), OUT, "25000.00", Channel.WIRE, "Tehran Parts Co", "IR", "advance"),
        ("NW-1005", _at(9, 11, 0), IN, "7860.00", Channel.WIRE, "Adventure Works GmbH", "DE", "INV-8820"),
        ("NW-1006", _at(10, 8, 20), OUT, "1250.00", Channel.CHEQUE, "Leeds City Council", "GB", "rates"),
    ],
    HARBOR: [
        ("HX-2001", _at(9, 9, 30), IN, "9500.00", Channel.CASH, CASH_DEPOSIT, "", "branch 0042"),
        ("HX-2002", _at(10, 15, 10), IN, "9800.00", Channel.CASH, CASH_DEPOSIT, "", "branch 0042"),
        ("HX-2003", _at(12, 11, 45), IN, "9250.00", Channel.CASH, CASH_DEPOSIT, "", "branch 0017"),
        ("HX-2004", _at(13, 14, 0), IN, "9900.00", Channel.CASH, CASH_DEPOSIT, "", "branch 0042"),
        ("HX-2005", _at(14, 10, 0), OUT, "17000.00", Channel.WIRE, "Golden Delta Co", "MM", "consulting"),
        ("HX-2006", _at(15, 18, 25), IN, "4200.00", Channel.CRYPTO, "Exchange wallet 0x9f3c", "", "USDT"),
    ],
}


@demo_loader("aml")
def load() -> str:
    for row in CUSTOMERS:
        Customer.objects.update_or_create(reference=row["reference"], defaults=row)
    accounts = {}
    for row in ACCOUNTS:
        customer = Customer.objects.get(reference=row["customer"])
        accounts[row["number"]], _ = Account.objects.update_or_create(
            number=row["number"], defaults={**row, "customer": customer}
        )
    for number, rows in TRANSACTIONS.items():
        account = accounts[number]
        for external_id, booked_at, direction, amount, channel, counterparty, country, narrative in rows:
            Transaction.objects.update_or_create(
                account=account,
                external_id=external_id,
                defaults={
                    "booked_at": booked_at,
                    "direction": direction,
                    "amount": Decimal(amount),
                    "currency": account.currency,
                    "channel": channel,
                    "counterparty_name": counterparty,
                    "counterparty_country": country,
                    "narrative": narrative,
                },
            )
    count = sum(len(rows) for rows in TRANSACTIONS.values())
    return (
        f"{len(CUSTOMERS)} customers, {len(ACCOUNTS)} accounts, {count} transactions; "
        f"{_guidance_load()}; {_screen_unscreened()}"
    )


def _guidance_load() -> str:
    collection = collection_get_or_create(
        name=GUIDANCE_COLLECTION,
        description="AML red flags by typology, a demo summary (the FinCEN advisories load as 'fincen')",
        reader_groups=(roles.AML_ANALYST,),
    )
    files = [(path.name, path.read_bytes()) for path in sorted(GUIDANCE.iterdir())]
    report = files_submit(collection=collection, files=files, enqueue=False)
    if report.rejected:
        raise ApplicationError(f"AML guidance rejected: {'; '.join(map(str, report.rejected))}")
    indexed = documents_index([s.document.pk for s in report.submitted if s.changed])
    lexicon_refresh()
    return f"{len(report.submitted)} guidance document(s) ({indexed.chunks} chunks newly indexed)"


def _screen_unscreened() -> str:
    try:
        screenings = waiting_screen()
    except NoActiveModel:
        logger.warning("aml-typology has no active model: the demo transactions are not screened")
        return "not screened (train aml-typology first)"
    except ModelNotReady as waiting:
        logger.warning("the demo transactions are not screened: %s", waiting.message)
        return f"not screened yet ({waiting.message}): they will be once it is active"
    alerts = sum(1 for s in screenings if s.risk is not None and s.risk >= settings.AML_ALERT_THRESHOLD)
    return f"{len(screenings)} transactions screened, {alerts} alert(s)"
