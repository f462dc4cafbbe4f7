"""A client's record as one JSON document, for the advisor who owns it."""

from __future__ import annotations

from typing import Any

from advisory.models import Client


def client_export_data(client: Client) -> dict[str, Any]:
    return {
        "reference": client.reference,
        "full_name": client.full_name,
        "birth_year": client.birth_year,
        "income_band": client.income_band,
        "risk_tolerance": client.risk_tolerance,
        "goals": client.goals,
        "horizon_years": client.horizon_years,
        "restrictions": client.restrictions,
        "holdings": [
            {
                "instrument": h.instrument,
                "asset_class": h.asset_class,
                "value": str(h.value),
                "currency": h.currency,
                "account_number": h.account_number,
            }
            for h in client.holdings.all()
        ],
        "letters": [
            {
                "written_on": letter.written_on.isoformat(),
                "author": letter.author,
                "text": letter.text,
                "keywords": [
                    {"category": k.category, "phrase": k.phrase, "start": k.start, "end": k.end}
                    for k in letter.keywords.all()
                ],
            }
            for letter in client.letters.prefetch_related("keywords")
        ],
    }
