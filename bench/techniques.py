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

from common import django_setup, use_database, write_result
from files import FROM_FILES, ensure_task

use_database("finassist_bench")
django_setup()

from django.core.management import call_command  # noqa: E402

from assistant.training.costs import serving_speed  # noqa: E402
from assistant.training.data import Splits  # noqa: E402
from assistant.training.inference import MAX_TEXT_CHARS, predict  # noqa: E402
from assistant.training.models import TrainingRun  # noqa: E402
from assistant.training.registry import task_get  # noqa: E402
from assistant.training.services import run_execute, run_submit, version_activate  # noqa: E402

TASKS = ["chat-intent", "claims-line-of-business", "aml-typology", *FROM_FILES]
TECHNIQUES = ["zero-shot", "knn", "probe", "tfidf", "icl", "lora"]
SINGLE_TEXTS = 100


def measured(task: str, technique: str, icl_limit: int) -> dict[str, object]:
    options: dict[str, object] = {"method": technique}
    if technique == "icl":
        options["evaluation_limit"] = icl_limit
    run = run_execute(run_submit(task=task, options=options, dispatch=False).pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        return {"error": run.error}
    version = run.model_version
    version_activate(version, prepare_now=False)
    # predict takes texts of at most MAX_TEXT_CHARS, as the API does; a few complaints are longer
    validation = [e.text[:MAX_TEXT_CHARS] for e in Splits.of(task_get(task).examples()).validation]
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
    generates = technique == "icl"  # each text a generation: ten single texts, no batches
    speed = serving_speed(
        lambda texts: predict(task, texts, record=False),
        validation,
        singles=10 if generates else SINGLE_TEXTS,
        batch_texts=0 if generates else len(validation),
    )
    if "texts_per_s" in speed:
        result["batch_texts_per_s"] = speed.pop("texts_per_s")
    result["single_text"] = speed
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
