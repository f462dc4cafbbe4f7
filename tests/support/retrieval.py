"""A tiny collection a stock encoder searches badly and a tuned one learns: each document is asked
about by an internal code name that its text never uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOCUMENTS = {
    "travel.md": "# Business travel expenses\n\nClaim hotel, rail and taxi costs with the receipts "
    "within thirty days of the trip. A manager approves each claim before it is paid.",
    "leave.md": "# Parental leave\n\nEmployees take up to twenty-six weeks of leave after a birth or "
    "an adoption, on full pay for the first sixteen weeks.",
    "wires.md": "# Wire transfer cut-off times\n\nPayments in euro sent after three in the afternoon "
    "leave the next business day; urgent payments need a second signature.",
    "token.md": "# Resetting a hardware token\n\nA locked token is reset by the service desk once the "
    "owner's identity is checked by a call-back to the registered phone.",
    "limits.md": "# Counterparty limits\n\nEvery trading partner has an exposure ceiling set by the "
    "credit committee, reviewed each year and on any downgrade.",
    "gifts.md": "# Gifts and hospitality register\n\nAny gift worth more than fifty pounds is recorded "
    "in the register within five days, with who gave it and why.",
    "rooms.md": "# Booking meeting rooms\n\nRooms are booked in the calendar up to four weeks ahead; a "
    "room not used within fifteen minutes is released.",
    "close.md": "# Quarter-end close calendar\n\nLedgers lock on the third working day after the "
    "quarter ends, and the accounts are signed off on the tenth.",
}
CODE_NAMES = {
    "travel.md": "Falcon",
    "leave.md": "Harbor",
    "wires.md": "Juniper",
    "token.md": "Cobalt",
    "limits.md": "Meridian",
    "gifts.md": "Tango",
    "rooms.md": "Quartz",
    "close.md": "Willow",
}
ASKED = [
    "How does {} work?",
    "Who do I ask about {}?",
    "Is there a deadline for {}?",
    "What are the rules of {}?",
    "Where can I read about {}?",
    "Does {} apply to me?",
    "Tell me about {} please",
]


def questions() -> list[dict[str, object]]:
    return [
        {"query": template.format(CODE_NAMES[name]), "relevant": [name]}
        for name in DOCUMENTS
        for template in ASKED
    ]


def questions_file(folder: Path) -> Path:
    path = folder / "questions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in questions()))
    return path


def files() -> list[tuple[str, bytes]]:
    return [(name, text.encode()) for name, text in DOCUMENTS.items()]


def trained(task: str, options: dict[str, Any], folder: Path) -> Any:
    """A version of a retrieval task on the code-name questions, fitted in this process."""
    from assistant.training.models import TrainingRun
    from assistant.training.services import run_execute, run_submit

    run = run_execute(
        run_submit(task=task, options=options, data_file=questions_file(folder), dispatch=False).pk
    )
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    return run.model_version
