from django.db import migrations

# The five screening rules and their starting thresholds; compliance tunes them in the admin.
RULES = [
    {
        "code": "structuring",
        "reason_code": "R01",
        "name": "Structuring",
        "description": (
            "Cash deposits just under the reporting threshold, each between threshold × (1 − margin) and "
            "the threshold, at least min_count of them (this one included) within window_days."
        ),
        "parameters": {"threshold": 10000, "margin": 0.1, "min_count": 3, "window_days": 7},
        "weight": 1.0,
    },
    {
        "code": "rapid_movement",
        "reason_code": "R02",
        "name": "Rapid movement of funds",
        "description": (
            "Money out within window_hours of money in: the outgoing amount is at least share of what came "
            "in during the window, and what came in is at least min_amount."
        ),
        "parameters": {"window_hours": 48, "share": 0.8, "min_amount": 5000},
        "weight": 0.8,
    },
    {
        "code": "high_risk_jurisdiction",
        "reason_code": "R03",
        "name": "High-risk jurisdiction",
        "description": (
            "The counterparty is in a listed country. The list must be kept current by compliance: "
            "FATF updates it after each plenary (February, June, October)."
        ),
        # FATF, as of late 2025: subject to a call for action (KP, IR, MM), then under increased
        # monitoring (the grey list). A starting point, not advice: compliance owns this list.
        "parameters": {
            "countries": [
                "KP", "IR", "MM",
                "AO", "BG", "BO", "CD", "CI", "CM", "DZ", "HT", "KE", "LA", "LB", "MC",
                "NA", "NP", "SS", "SY", "VE", "VG", "VN", "YE",
            ],
        },
        "weight": 0.9,
    },
    {
        "code": "round_amount",
        "reason_code": "R04",
        "name": "Round amount",
        "description": "An amount of at least min_amount that is an exact multiple of multiple.",
        "parameters": {"min_amount": 5000, "multiple": 1000},
        "weight": 0.3,
    },
    {
        "code": "velocity",
        "reason_code": "R05",
        "name": "Velocity",
        "description": (
            "At least min_count transactions in the last window_hours, and at least factor times the "
            "customer's usual count for a window that long (the average over the baseline_days before). "
            "Silent for a customer without baseline history."
        ),
        "parameters": {"window_hours": 24, "factor": 3, "min_count": 5, "baseline_days": 30},
        "weight": 0.5,
    },
]


def create_rules(apps, schema_editor):
    Rule = apps.get_model("aml", "Rule")
    for row in RULES:
        Rule.objects.update_or_create(code=row["code"], defaults=row)


def delete_rules(apps, schema_editor):
    apps.get_model("aml", "Rule").objects.filter(code__in=[row["code"] for row in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("aml", "0002_accounts_transactions_screening_alerts_cases_audit"),
    ]

    operations = [
        migrations.RunPython(create_rules, delete_rules),
    ]
