"""What fine-tuning cost an encoder's general ability (forgetting), which a study measures besides
the versions' own metrics. Runs in workers: imports numpy and the models."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.core.errors import ApplicationError
from assistant.knowledge.evaluation import scores

REFERENCE_K = 10
# Each reference document is embedded from its opening words, by both encoders alike: the
# classifier's encoder was tuned on short texts and truncates at its own token limit.
REFERENCE_CHARS = 400


@dataclass(frozen=True)
class Reference:
    """Questions with the documents that answer them: what an encoder's general retrieval is
    judged on."""

    name: str
    questions: list[tuple[str, frozenset[str]]]
    documents: dict[str, str]


def reference(*, excluding: str = "") -> Reference:
    """Ask CFPB's validation questions over its answers where the datasets folder has them (and
    the model was not tuned on them: `excluding` names what it was), else the demo FAQ's
    questions over its answers."""
    from assistant.knowledge.datasets import DATASETS, eval_split

    try:
        if excluding == "ask_cfpb":
            raise ApplicationError("the model was tuned on Ask CFPB's questions")
        folder = DATASETS["ask_cfpb"].path()
    except ApplicationError:
        from assistant.knowledge.demo import DEMO_DATA

        with (DEMO_DATA / "faq" / "customer-faq.csv").open(encoding="utf-8", newline="") as handle:
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


def forgetting(predictor: Any, base_model: str, *, excluding: str = "") -> dict[str, Any]:
    """nDCG@10 on the reference questions of the tuned encoder (the fine-tuned classifier's own
    embeddings) and of the encoder it started from."""
    from assistant.core.encoder import encoder

    chosen = reference(excluding=excluding)
    base = ndcg(encoder(base_model).embed, chosen)
    tuned = ndcg(predictor.embed, chosen)
    return {
        "reference": chosen.name,
        "questions": len(chosen.questions),
        "base_ndcg10": base,
        "tuned_ndcg10": tuned,
        "change": round(tuned - base, 4),
    }
