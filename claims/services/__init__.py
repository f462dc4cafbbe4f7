"""Claims writes, by concern: `submission` (claims in, triage queued), `triage` (classifiers,
extraction, policy check, fraud risk, route, report), `calibration` (the fraud combination of a
text-model version) and `decisions` (adjusters accept or override)."""
