"""The two benchmark tasks created from files in the datasets folder, the way a user would
(`task_create`): CFPB complaints by Product and Financial PhraseBank sentiment. Needs Django set up."""

from __future__ import annotations

import csv
import io
from collections import Counter

FROM_FILES = {
    "cfpb-complaints-product": ("cfpb_complaints/train.csv", "Consumer complaint narrative", "Product"),
    "financial-phrasebank-sentiment": ("financial_phrasebank/train.csv", "sentence", "label"),
}
MIN_PER_LABEL = 20  # rarer products are left out of the CFPB file (two have one complaint)


def ensure_task(name: str) -> dict[str, object]:
    """The task, created from its file the first time; what was left out of the file."""
    from django.conf import settings

    from assistant.training.models import TaskDefinition
    from assistant.training.services import task_create

    if name not in FROM_FILES:
        return {}
    path, text_column, label_column = FROM_FILES[name]
    file = settings.DATASETS_DIR / path
    with file.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if (row.get(text_column) or "").strip()]
    counts = Counter(row[label_column] for row in rows)
    kept = [row for row in rows if counts[row[label_column]] >= MIN_PER_LABEL]
    left_out = {label: count for label, count in counts.items() if count < MIN_PER_LABEL}
    if not TaskDefinition.objects.filter(name=name).exists():
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[text_column, label_column], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(kept)
        task_create(
            name=name, file_name=file.name, content=out.getvalue().encode(), text_column=text_column,
            label_column=label_column,
        )  # fmt: skip
    return {"file": path, "rows_with_text": len(rows), "labels_left_out": left_out}
