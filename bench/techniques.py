"""Every technique on five tasks: quality, speed and cost on each task's validation split.

    .venv/bin/python bench/techniques.py [--tasks ...] [--techniques ...] [--icl-limit 50]

Runs in the benchmark database (finassist_bench). Tasks: chat-intent (Banking77),
claims-line-of-business (InsuranceQA), aml-typology, and two created from files in the datasets
folder the way a user would (`task_create`): CFPB complaints by Product (complaints with a
narrative, products with at least MIN_PER_LABEL of them) and Financial PhraseBank sentiment.
Each technique is fitted by the platform (`run_execute`), so its figures are the ones its
version records: accuracy, macro-F1, ECE on the validation split, fit seconds, artefact bytes,
peak memory. Then, with the version active, single texts through `predict` (p50/p95 over 100
validation texts, after a warm-up) and batches of 64 (texts/s over the validation split). icl is
scored on a seeded sample of `--icl-limit` texts per split: each costs a generation on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
from collections import Counter

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from assistant.training.data import Splits  # noqa: E402
from assistant.training.inference import predict  # noqa: E402
from assistant.training.models import TaskDefinition, TrainingRun  # noqa: E402
from assistant.training.registry import task_get  # noqa: E402
from assistant.training.services import run_execute, run_submit, task_create, version_activate  # noqa: E402

FROM_FILES = {
    "cfpb-complaints-product": ("cfpb_complaints/train.csv", "Consumer complaint narrative", "Product"),
    "financial-phrasebank-sentiment": ("financial_phrasebank/train.csv", "sentence", "label"),
}
TASKS = ["chat-intent", "claims-line-of-business", "aml-typology", *FROM_FILES]
TECHNIQUES = ["zero-shot", "knn", "probe", "tfidf", "icl", "lora"]
SINGLE_TEXTS = 100
BATCH = 64


MIN_PER_LABEL = 20  # rarer products are left out of the CFPB file (two have one complaint)


def ensure_task(name: str) -> dict[str, object]:
    """The task, created from its file the first time; what was left out of the file."""
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


def measured(task: str, technique: str, icl_limit: int) -> dict[str, object]:
    options: dict[str, object] = {"method": technique}
    if technique == "icl":
        options["evaluation_limit"] = icl_limit
    run = run_execute(run_submit(task=task, options=options, dispatch=False).pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        return {"error": run.error}
    version = run.model_version
    version_activate(version, prepare_now=False)
    validation = [e.text for e in Splits.of(task_get(task).examples()).validation]
    metrics = version.metrics
    result: dict[str, object] = {
        "version": version.pk,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece"],
        "abstain_coverage": metrics["abstain"]["on_validation"]["coverage"],
        "evaluated_on": metrics.get("evaluated_on", {"validation": metrics["examples"]}),
        "fit_seconds": version.fit_seconds,
        "fit_device": version.fit_device,
        "artefact_bytes": version.artefact_bytes,
        "peak_memory_bytes": version.peak_memory_bytes,
    }
    singles = validation[: 10 if technique == "icl" else SINGLE_TEXTS]
    predict(task, singles[:3], record=False)
    samples = []
    for text in singles:
        started = time.perf_counter()
        predict(task, [text], record=False)
        samples.append(time.perf_counter() - started)
    result["single_text"] = summary_ms(samples)
    if technique != "icl":
        started = time.perf_counter()
        for i in range(0, len(validation), BATCH):
            predict(task, validation[i : i + BATCH], record=False)
        result["batch_texts_per_s"] = round(len(validation) / (time.perf_counter() - started), 1)
    for name in (
        "calls",
        "call_seconds_p50",
        "call_seconds_p95",
        "prompt_tokens_mean",
        "completion_tokens_mean",
    ):
        if name in metrics:
            result[name] = metrics[name]
    if "epoch_seconds" in metrics:
        result["epoch_seconds"] = metrics["epoch_seconds"]
    print(f"{task} {technique}: {result}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=TASKS)
    parser.add_argument("--techniques", nargs="+", default=TECHNIQUES)
    parser.add_argument("--icl-limit", type=int, default=50)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    for technique in args.techniques:
        for task in args.tasks:
            ensure_task(task)
            splits = Splits.of(task_get(task).examples()).sizes()
            section = f"{task}/{technique}"
            write_result(
                "techniques", {section: {"splits": splits, **measured(task, technique, args.icl_limit)}}
            )


if __name__ == "__main__":
    main()
