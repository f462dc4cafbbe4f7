"""Fine-tuning on Banking77 (the chat-intent task): accuracy, training time, inference speed.

    .venv/bin/python bench/training.py [--methods lora full] [--epochs 3] [--skip-baseline]
                                       [--inference-only]

Runs in the benchmark database (finassist_bench). Needs Banking77 in the datasets folder
(FINASSIST_DATASETS_DIR). The examples split by a hash of each text: train 85%, calibration
5% (abstain threshold), validation 10% (every figure below; no version trained on it).

- Baseline without fine-tuning: TF-IDF of words (1-2) and characters (2-5) with logistic
  regression, on the same splits; and the nearest-centroid classifier every run starts from
  (the bundled encoder's embeddings, no training).
- Each method: accuracy, macro-F1, ECE, abstain coverage on the validation split, seconds
  per epoch (and scaled to 10,000 examples), on this machine's CPU threads.
- Inference with the best version active, after a warm-up: one text at a time through the
  prediction service (p50/p95, with and without the drift record), and batches of 32 and 256
  (texts/s, two passes over the validation split).
"""

from __future__ import annotations

import argparse
import time

from common import django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

from django.core.management import call_command  # noqa: E402

from assistant.chat.intents import CHAT_INTENT  # noqa: E402
from assistant.training.data import Splits  # noqa: E402
from assistant.training.inference import predict  # noqa: E402
from assistant.training.models import ModelVersion, TrainingRun  # noqa: E402
from assistant.training.services import run_execute, run_submit, version_activate  # noqa: E402

TASK = CHAT_INTENT.name
TARGETS = {
    "accuracy": 0.93,
    "single_text_p95_ms": 10,
    "batch_texts_per_s": 500,
    "lora_epoch_seconds_per_10k_examples": 180,
}


def baseline(splits: Splits) -> dict[str, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline, make_union

    started = time.perf_counter()
    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
    )
    model = make_pipeline(features, LogisticRegression(C=20, max_iter=2000))
    model.fit([e.text for e in splits.train], [e.label for e in splits.train])
    fit_s = time.perf_counter() - started
    predicted = model.predict([e.text for e in splits.validation])
    truth = [e.label for e in splits.validation]
    return {
        "method": "TF-IDF words 1-2 + characters 2-5, logistic regression (no fine-tuning)",
        "accuracy": round(accuracy_score(truth, predicted), 4),
        "macro_f1": round(f1_score(truth, predicted, average="macro"), 4),
        "fit_seconds": round(fit_s, 1),
    }


def train(method: str, epochs: int) -> ModelVersion:
    run = run_submit(task=TASK, options={"method": method, "epochs": epochs}, dispatch=False)
    run = run_execute(run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise SystemExit(f"{method} run {run.pk} {run.status}: {run.error}")
    print(
        f"{method}: {run.metrics['accuracy']} accuracy, epochs {run.metrics['epoch_seconds']} s", flush=True
    )
    return run.model_version


def summary(version: ModelVersion) -> dict[str, object]:
    metrics = version.metrics
    train_size = metrics["dataset_sizes"]["train"]
    return {
        "version": version.pk,
        "config": version.config,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "ece": metrics["ece"],
        "nearest_centroid_start_accuracy": metrics["history_start_accuracy"],
        "abstain": metrics["abstain"],
        "epoch_seconds": metrics["epoch_seconds"],
        "epoch_seconds_per_10k_examples": round(min(metrics["epoch_seconds"]) * 10_000 / train_size, 1),
        "device": version.run.device,
    }


def inference(splits: Splits) -> dict[str, object]:
    texts = [e.text for e in splits.validation]
    # Load, then warm up both shapes of call (the first hundred calls run measurably slower).
    predict(TASK, texts[:32], record=False)
    for text in texts[:100]:
        predict(TASK, [text], record=False)
    # Interleaved, so that both kinds of call meet the same machine state.
    single, unrecorded = [], []
    for text in texts[:300]:
        for record, samples in ((True, single), (False, unrecorded)):
            started = time.perf_counter()
            predict(TASK, [text], record=record)
            samples.append(time.perf_counter() - started)
    result: dict[str, object] = {
        "single_text_service": summary_ms(single),
        "single_text_service_without_drift_record": summary_ms(unrecorded),
    }
    for size in (32, 256):
        batches = [texts[i : i + size] for i in range(0, len(texts) - size + 1, size)] * 2
        started = time.perf_counter()
        for batch in batches:
            predict(TASK, batch, record=False)
        elapsed = time.perf_counter() - started
        result[f"batch_{size}_texts_per_s"] = round(len(batches) * size / elapsed, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--methods", nargs="+", default=["lora", "full"], choices=["lora", "full"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--inference-only", action="store_true", help="time the active version again, without training"
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    splits = Splits.of(CHAT_INTENT.examples())
    results: dict[str, object] = {"task": TASK, "splits": splits.sizes(), "targets": TARGETS}
    if args.inference_only:
        active = ModelVersion.objects.get(task=TASK, status=ModelVersion.Status.ACTIVE)
        results["inference"] = {"version": active.pk, "method": active.method, **inference(splits)}
        write_result("training", results)
        return
    if not args.skip_baseline:
        results["baseline"] = baseline(splits)
        print(f"baseline: {results['baseline']}", flush=True)
    versions = {method: train(method, args.epochs) for method in args.methods}
    results["methods"] = {method: summary(version) for method, version in versions.items()}
    best = max(versions.values(), key=lambda v: v.metrics["macro_f1"])
    version_activate(best)
    results["inference"] = {"version": best.pk, "method": best.method, **inference(splits)}
    write_result("training", results)


if __name__ == "__main__":
    main()
