"""What a study measures besides the versions' own metrics: serving speed, and what fine-tuning
cost the encoder's general ability (forgetting). Runs in workers: imports numpy and the models."""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.core.errors import ApplicationError
from assistant.knowledge.evaluation import scores
from assistant.training.costs import summary_ms

SINGLE_TEXTS = 100
WARM_UP = 3
BATCH = 64
BATCH_TEXTS = 512
REFERENCE_K = 10
# Each reference document is embedded from its opening words, by both encoders alike: the
# classifier's encoder was tuned on short texts and truncates at its own token limit.
REFERENCE_CHARS = 400
DEMO_FAQ = (
    Path(__file__).resolve().parent.parent
    / "assistant"
    / "knowledge"
    / "demo_data"
    / "faq"
    / "customer-faq.csv"
)


def speed(
    predictor: Any, texts: Sequence[str], *, singles: int = SINGLE_TEXTS, batch_texts: int = BATCH_TEXTS
) -> dict[str, Any]:
    """Single-text latency (p50/p95 after a warm-up) and the throughput of batches of BATCH."""
    for text in texts[:WARM_UP]:
        predictor.scores([text])
    samples = []
    for text in texts[:singles]:
        started = time.perf_counter()
        predictor.scores([text])
        samples.append(time.perf_counter() - started)
    batched = list(texts[:batch_texts])
    started = time.perf_counter()
    for i in range(0, len(batched), BATCH):
        predictor.scores(batched[i : i + BATCH])
    elapsed = time.perf_counter() - started
    return {**summary_ms(samples), "texts_per_s": round(len(batched) / elapsed, 1)}


@dataclass(frozen=True)
class Reference:
    """Questions with the documents that answer them: what an encoder's general retrieval is
    judged on."""

    name: str
    questions: list[tuple[str, frozenset[str]]]
    documents: dict[str, str]


def reference() -> Reference:
    """Ask CFPB's validation questions over its answers where the datasets folder has them,
    else the demo FAQ's questions over its answers."""
    from assistant.knowledge.datasets import DATASETS, eval_split

    try:
        folder = DATASETS["ask_cfpb"].path()
    except ApplicationError:
        with DEMO_FAQ.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return Reference(
            "demo FAQ questions",
            [(row["question"], frozenset([row["id"]])) for row in rows],
            {row["id"]: row["answer"] for row in rows},
        )
    documents = {
        parsed.external_id: " ".join(block.text for block in parsed.blocks)
        for parsed in DATASETS["ask_cfpb"].load(folder)
    }
    questions = [(row["query"], frozenset(row["relevant"])) for row in eval_split("ask_cfpb", "validation")]
    return Reference("Ask CFPB validation questions", questions, documents)


def ndcg(embed: Any, reference: Reference) -> float:
    """Mean nDCG@10 of ranking the reference documents by cosine similarity to each question,
    both embedded by `embed` (texts -> unit vectors)."""
    ids = list(reference.documents)
    documents = np.asarray(embed([reference.documents[i][:REFERENCE_CHARS] for i in ids]))
    questions = np.asarray(embed([text for text, _ in reference.questions]))
    ranked = np.argsort(-(questions @ documents.T), axis=1)[:, :REFERENCE_K]
    values = [
        scores([ids[i] for i in row], relevant, REFERENCE_K)[f"ndcg@{REFERENCE_K}"]
        for row, (_, relevant) in zip(ranked, reference.questions, strict=True)
    ]
    return round(float(np.mean(values)), 4)


def forgetting(predictor: Any, base_model: str) -> dict[str, Any]:
    """nDCG@10 on the reference questions of the tuned encoder (the fine-tuned classifier's own
    embeddings) and of the encoder it started from."""
    from assistant.core.encoder import encoder

    chosen = reference()
    base = ndcg(encoder(base_model).embed, chosen)
    tuned = ndcg(predictor.embed, chosen)
    return {
        "reference": chosen.name,
        "questions": len(chosen.questions),
        "base_ndcg10": base,
        "tuned_ndcg10": tuned,
        "change": round(tuned - base, 4),
    }
