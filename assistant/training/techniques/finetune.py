"""Fine-tuning (`lora`, `full`, `qlora`): the encoder itself is trained with a classification head
(`training.engine`), on a gpu-queue worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.training.techniques import Fitted, Job


def fit(job: Job) -> Fitted:
    from assistant.training import engine
    from assistant.training.modeling import Classifier, artefact_write

    config = job.config
    trained = engine.fit(
        job.splits, job.spec.labels, config, on_progress=job.on_progress, should_stop=job.should_stop
    )
    engine.adapter_save_and_merge(trained, job.folder / "adapter")
    artefact_write(trained.model, trained.tokenizer, job.folder)
    manifest = {"max_tokens": config.max_tokens, "cls_pooling": trained.cls_pooling}
    predictor = Classifier.from_files(job.folder, {"labels": list(job.spec.labels), **manifest})
    return Fitted(
        predictor,
        manifest,
        device=trained.device,
        history=trained.history,
        metrics={
            "epoch_seconds": trained.epoch_seconds,
            "history_start_accuracy": trained.history[0]["validation_accuracy"],
        },
    )


def load(folder: Path, manifest: dict[str, Any], *, quantized: bool = False) -> Any:
    from assistant.training.modeling import Classifier

    return Classifier.from_files(folder, manifest, quantized=quantized)
