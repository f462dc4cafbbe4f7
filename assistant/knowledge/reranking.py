"""A trained reranker per collection: the reranking tasks of the fine-tuning platform.

The task `reranker:<collection>` trains a cross-encoder (`training.crossencoder`) from the
collection's stock encoder weights, on the questions of a file in `evaluate_retrieval`'s format
(split as `knowledge.tuning` splits them): each question is scored together with its relevant
passage and with `NEGATIVES` passages the serving retriever ranks high that are of no relevant
document. Its metrics rerank the serving retriever's first `Collection.rerank_depth` passages of
each held-out question, beside that retriever's own order.

Activating a version records it on its collections (`Collection.reranker_version`, written by
`prepare`); from then on a search of the collection has the version reorder its results among the
first `rerank_depth` fused ones, in place: the places the collection's results held stay the
collection's (`CollectionReranker`, behind the search's reranker interface). A rollback records
the version before, or none.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.knowledge.models import Collection
from assistant.knowledge.tuning import (
    MODEL_FOLDER,
    K,
    Passages,
    TuningError,
    items_hash,
    question_pairs,
    retrieval_spec,
    split_questions,
    task_collections,
)
from assistant.training.models import ModelVersion
from assistant.training.registry import TaskSpec

if TYPE_CHECKING:
    import numpy as np

    from assistant.knowledge.evaluation import Query
    from assistant.training.contrastive import Pair
    from assistant.training.crossencoder import CrossEncoder
    from assistant.training.techniques import TaskFitted, TaskJob

PREFIX = "reranker:"
NEGATIVES = 7
NEGATIVE_POOL = 30
DEFAULTS: dict[str, Any] = {
    "method": "full", "learning_rate": 3e-5, "epochs": 2, "batch_size": 8, "max_tokens": 256,
}  # fmt: skip


def reranker_task(name: str) -> TaskSpec:
    """The spec of a reranking task (the `reranker:` family of the task registry)."""
    return retrieval_spec(
        name,
        kind="reranker",
        defaults=DEFAULTS,
        fit=reranker_fit,
        prepare=reranker_prepare,
        prepared=reranker_prepared,
    )


def training_groups(
    questions: Sequence[Query], vectors: np.ndarray, passages: Passages, rng: random.Random
) -> list[Pair]:
    """Each question with its relevant passage and `NEGATIVES` hard negatives from the serving
    retriever's first `NEGATIVE_POOL` passages (`vectors`: the questions' embeddings by it)."""
    return question_pairs(questions, vectors, passages, rng, negatives=NEGATIVES, pool=NEGATIVE_POOL)


def reranker_fit(job: TaskJob) -> TaskFitted:
    """Train the task's cross-encoder and score its reranking beside the serving retriever's order."""
    from assistant.core.encoder import encoder
    from assistant.training.crossencoder import CrossEncoder, cross_encoder_fit
    from assistant.training.techniques import TaskFitted

    if job.data_file is None:
        raise TuningError("a reranker trains on questions: give a question file", field="data")
    collections = task_collections(job.task)
    train, validation = split_questions(job)
    passages = Passages.of(collections)
    serving = encoder(collections[0].embedding_model)
    rng = random.Random(job.config.seed)
    train_vectors = serving.embed([q.text for q in train])
    validation_vectors = serving.embed([q.text for q in validation])
    groups = training_groups(train, train_vectors, passages, rng)
    validation_groups = training_groups(validation, validation_vectors, passages, rng)
    model_folder = job.folder / MODEL_FOLDER
    tuned = cross_encoder_fit(
        groups,
        validation_groups,
        job.config,
        model_folder,
        on_progress=job.on_progress,
        should_stop=job.should_stop,
    )
    depth = min(c.rerank_depth for c in collections)
    scorer = CrossEncoder(model_folder, max_tokens=job.config.max_tokens)
    before, after = reranked_metrics(validation, validation_vectors, passages, scorer, depth=depth)
    sizes = {
        "questions": len(train),
        "groups": len(groups),
        "validation_questions": len(validation),
        "passages": len(passages.ids),
    }
    return TaskFitted(
        manifest={
            "model": MODEL_FOLDER,
            "collections": [c.name for c in collections],
            "max_tokens": job.config.max_tokens,
        },
        metrics={
            **after,
            "score": after[f"ndcg@{K}"],
            "depth": depth,
            "active": {"model": f"{serving.name} without a reranker", **before, "score": before[f"ndcg@{K}"]},
        },
        dataset_hash=items_hash([(g.query, g.positive) for g in groups]),
        validation_hash=items_hash(sorted(q.text for q in validation)),
        dataset_sizes=sizes,
        device=tuned.device,
        history=tuned.history,
    )


def reranked_metrics(
    queries: Sequence[Query],
    vectors: np.ndarray,
    passages: Passages,
    scorer: CrossEncoder,
    *,
    depth: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Mean metrics of the retriever's exact order, and of its first `depth` passages reranked."""
    import numpy as np

    from assistant.knowledge.evaluation import scores, uses_pages

    totals: list[dict[str, float]] = [{}, {}]
    for query, vector in zip(queries, vectors, strict=True):
        similarities = passages.vectors @ vector
        top = np.argsort(-similarities, kind="stable")[:depth]
        reranked = top[
            np.argsort(-scorer.scores(query.text, [passages.texts[i] for i in top]), kind="stable")
        ]
        pages = uses_pages(query.relevant)
        for total, order in zip(totals, (top, reranked), strict=True):
            units = list(dict.fromkeys(passages.unit(int(i), pages=pages) for i in order))
            for name, value in scores(units, query.relevant, K).items():
                total[name] = total.get(name, 0.0) + value
    before, after = (
        {name: round(value / len(queries), 4) for name, value in total.items()} for total in totals
    )
    return before, after


# Serving --------------------------------------------------------------------------------------


def _active(task: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE).first()


def reranker_prepare(version: ModelVersion) -> None:
    """Record on the task's collections the version the registry says reranks them now."""
    active = _active(version.task)
    names = [c.name for c in task_collections(version.task)]
    Collection.objects.filter(name__in=names).update(reranker_version=active)


def reranker_prepared(version: ModelVersion) -> bool:
    active = _active(version.task)
    active_id = active.pk if active is not None else None
    return all(c.reranker_version_id == active_id for c in task_collections(version.task))
