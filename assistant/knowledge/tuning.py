"""A retriever tuned on its own collections: the embedding tasks of the fine-tuning platform.

The task `embedding:<collection>` (`embedding:<a>+<b>` for several collections embedded by one
stock model) tunes that stock encoder contrastively (`training.contrastive`) on pairs of a
question and a passage relevant to it:

- the questions of a file in `evaluate_retrieval`'s format (`manage.py train embedding:ask-cfpb
  --data questions.jsonl`); each is paired with the passage of each relevant document (or page)
  that the serving model ranks highest, and with a passage the serving model ranks high but that
  is not relevant (a hard negative);
- each section's heading and its passage, where documents have sections below their title;
- questions whose answers people marked helpful, with the passages the answers cited (sources the
  apps register with `helpful_source_register`).

The questions are split by a hash of their text, never by passage: one in five is held out and
never trained on. On it, the tuned model and the model serving now each rank every chunk of the
collections (exact search), scored by nDCG@10, recall@10 and MRR@10 at the granularity of the
labels. Activating a version re-embeds its collections with the tuned model on a worker
(`prepare`), one safe switch per collection (`collection_reembed`); a rollback re-embeds them with
the model before, the stock one after the first version.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.encoder import fine_tunable
from assistant.core.errors import ApplicationError
from assistant.knowledge.evaluation import Query, queries_read, scores, uses_pages
from assistant.knowledge.models import Chunk, Collection, Document
from assistant.training.models import ModelVersion
from assistant.training.registry import TaskSpec, UnknownTask

if TYPE_CHECKING:
    import numpy as np

    from assistant.core.encoder import TextEncoder
    from assistant.training.contrastive import Pair
    from assistant.training.techniques import TaskFitted, TaskJob

PREFIX = "embedding:"
SEPARATOR = "+"
MODEL_FOLDER = "model"
HELD_OUT_ONE_IN = 5
HARD_NEGATIVES = 1
NEGATIVE_POOL = 10  # the hard negatives are drawn from this many of the best-ranked wrong passages
K = 10
CHUNKS_PER_UNIT = 4  # chunks ranked per unit scored: several chunks of one page count once
DEFAULTS: dict[str, Any] = {
    "method": "full", "learning_rate": 2e-5, "epochs": 3, "batch_size": 32, "max_tokens": 256,
}  # fmt: skip

# (question, chunk id) of each passage that an answer people marked helpful cited, among the
# collections named.
HelpfulSource = Callable[[set[str]], Iterable[tuple[str, int]]]
_MARK = re.compile(r"\[(\d+)\]")
_helpful: list[HelpfulSource] = []


class TuningError(ApplicationError):
    pass


def helpful_source_register(source: HelpfulSource) -> None:
    if source not in _helpful:
        _helpful.append(source)


def cited_chunks(text: str, citations: Iterable[Mapping[str, Any]], collections: set[str]) -> list[int]:
    """The chunk ids of the citations an answer's text marks ([n]), among `collections`."""
    marked = {int(number) for number in _MARK.findall(text)}
    return [
        int(citation["chunk_id"])
        for citation in citations
        if citation.get("number") in marked
        and citation.get("collection") in collections
        and citation.get("chunk_id")
    ]


def task_name(collections: Sequence[str]) -> str:
    return PREFIX + SEPARATOR.join(sorted(set(collections)))


def task_collections(task: str) -> list[Collection]:
    """The collections a retrieval task (`embedding:` or `reranker:`) names; UnknownTask for one
    that does not exist."""
    names = [name for name in task.partition(":")[2].split(SEPARATOR) if name]
    found = {c.name: c for c in Collection.objects.filter(name__in=names).select_related("embedding_version")}
    missing = [name for name in names if name not in found]
    if not names or missing:
        raise UnknownTask(
            f"task {task!r}: no collection named {', '.join(missing) or 'in it'}",
            field="task",
        )
    return [found[name] for name in names]


def stock_model(collection: Collection) -> str:
    """The model a collection is embedded with when no tuned version is: its own, or the one a
    tuned version that embeds it was tuned from."""
    version = collection.embedding_version
    return version.base_model if version is not None else collection.embedding_model


def retriever_task(name: str) -> TaskSpec:
    """The spec of an embedding task (the `embedding:` family of the task registry)."""
    return retrieval_spec(
        name,
        kind="retriever",
        defaults=DEFAULTS,
        fit=retriever_fit,
        prepare=retriever_prepare,
        prepared=retriever_prepared,
    )


def retrieval_spec(
    name: str,
    *,
    kind: str,
    defaults: dict[str, Any],
    fit: Callable[[TaskJob], TaskFitted],
    prepare: Callable[[ModelVersion], None],
    prepared: Callable[[ModelVersion], bool],
) -> TaskSpec:
    """A retrieval task's spec (a `kind` of model trained from its collections' stock encoder on
    their questions), once the collections are known to share one stock model that can be trained."""
    collections = task_collections(name)
    stocks = sorted({stock_model(c) for c in collections})
    if len(stocks) > 1:
        raise UnknownTask(
            f"task {name!r}: its collections are embedded with different models "
            f"({', '.join(stocks)}); train each alone",
            field="task",
        )
    if not fine_tunable(stocks[0]):
        raise UnknownTask(
            f"task {name!r}: {stocks[0]} runs in its own engine and cannot be trained from", field="task"
        )
    return TaskSpec(
        name=name,
        labels=(),
        examples=list,
        description=f"the {kind} of {', '.join(c.name for c in collections)}, trained on its questions",
        defaults={**defaults, "base_model": stocks[0]},
        fit=fit,
        data_check=lambda path: questions_of(name, path),
        prepare=prepare,
        prepared=prepared,
        stock_without_version=True,
    )


def questions_of(task: str, path: Path) -> list[Query]:
    """The labelled questions of a file, every label a document of the task's collections."""
    documents = Document.objects.filter(collection__in=task_collections(task)).values_list(
        "external_id", flat=True
    )
    return queries_read(path, documents=set(documents))


def held_out(question: str) -> bool:
    return hashlib.sha256(" ".join(question.lower().split()).encode()).digest()[0] % HELD_OUT_ONE_IN == 0


# The passages ---------------------------------------------------------------------------------


@dataclass
class Passages:
    """Every chunk of the collections, as embedded (heading and text), with its vector as stored."""

    ids: list[int]
    documents: list[str]
    pages: list[int | None]
    headings: list[str]
    texts: list[str]
    vectors: np.ndarray

    @classmethod
    def of(cls, collections: Sequence[Collection]) -> Passages:
        import numpy as np

        rows = list(
            Chunk.objects.filter(collection__in=collections)
            .order_by("pk")
            .values_list("pk", "document__external_id", "page", "heading", "text", "embedding")
        )
        if not rows:
            raise TuningError("the collections have no chunks to tune a retriever on", field="task")
        return cls(
            ids=[row[0] for row in rows],
            documents=[row[1] for row in rows],
            pages=[row[2] for row in rows],
            headings=[row[3] for row in rows],
            texts=[f"{row[3]}\n{row[4]}" for row in rows],
            vectors=np.asarray([row[5] for row in rows], dtype=np.float32),
        )

    def unit(self, index: int, *, pages: bool) -> str:
        page = self.pages[index]
        return f"{self.documents[index]}#p{page}" if pages and page is not None else self.documents[index]

    def ranked(self, similarities: np.ndarray, *, pages: bool, units: int = K) -> list[str]:
        """The first `units` distinct units by similarity (chunks of one unit count once)."""
        import numpy as np

        depth = min(len(similarities), units * CHUNKS_PER_UNIT * 4)
        top = np.argpartition(-similarities, depth - 1)[:depth]
        seen: dict[str, None] = {}
        for index in top[np.argsort(-similarities[top], kind="stable")]:
            seen.setdefault(self.unit(int(index), pages=pages), None)
            if len(seen) == units:
                break
        return list(seen)


def retrieval_metrics(
    queries: Sequence[Query],
    query_vectors: np.ndarray,
    passage_vectors: np.ndarray,
    passages: Passages,
) -> dict[str, float]:
    """Mean nDCG@10, recall@1/5/10 and MRR@10 of exact search over the passages' vectors."""
    totals: dict[str, float] = {}
    for query, vector in zip(queries, query_vectors, strict=True):
        ranked = passages.ranked(passage_vectors @ vector, pages=uses_pages(query.relevant))
        for name, value in scores(ranked, query.relevant, K).items():
            totals[name] = totals.get(name, 0.0) + value
    return {name: round(value / len(queries), 4) for name, value in totals.items()}


# The pairs ------------------------------------------------------------------------------------


def question_pairs(
    questions: Sequence[Query],
    vectors: np.ndarray,
    passages: Passages,
    rng: random.Random,
    *,
    negatives: int = HARD_NEGATIVES,
    pool: int = NEGATIVE_POOL,
) -> list[Pair]:
    """Each question with the best-ranked passage of each unit relevant to it, and `negatives` hard
    negatives drawn from the `pool` best-ranked passages of no document relevant to it."""
    import numpy as np

    from assistant.training.contrastive import Pair

    pairs = []
    for question, vector in zip(questions, vectors, strict=True):
        similarities = passages.vectors @ vector
        order = np.argsort(-similarities, kind="stable")
        pages = uses_pages(question.relevant)
        documents = {label.split("#p")[0] for label in question.relevant}
        wrong = [int(i) for i in order[: pool * 8] if passages.documents[i] not in documents][:pool]
        best: dict[str, int] = {}
        for index in order:
            unit = passages.unit(int(index), pages=pages)
            if unit in question.relevant and unit not in best:
                best[unit] = int(index)
                if len(best) == len(question.relevant):
                    break
        for index in best.values():
            chosen = rng.sample(wrong, min(negatives, len(wrong)))
            pairs.append(Pair(question.text, passages.texts[index], tuple(passages.texts[i] for i in chosen)))
    return pairs


def heading_pairs(passages: Passages) -> list[Pair]:
    """Each section heading below a document's title with its passage (the text alone, so that the
    heading is not simply found in it)."""
    from assistant.training.contrastive import Pair

    pairs = []
    for heading, text in zip(passages.headings, passages.texts, strict=True):
        parts = [part.strip() for part in heading.split(">")]
        if len(parts) > 1 and parts[-1]:
            pairs.append(Pair(parts[-1], text.split("\n", 1)[1]))
    return pairs


def helpful_pairs(collections: Sequence[Collection], passages: Passages, skip: set[str]) -> list[Pair]:
    """Questions whose answers people marked helpful, each with a passage the answer cited."""
    from assistant.training.contrastive import Pair

    where = {chunk_id: index for index, chunk_id in enumerate(passages.ids)}
    names = {c.name for c in collections}
    found = {
        (" ".join(question.split()), where[chunk_id])
        for source in _helpful
        for question, chunk_id in source(names)
        if chunk_id in where and question.strip()
    }
    return [
        Pair(question, passages.texts[index]) for question, index in sorted(found) if question not in skip
    ]


# Fitting --------------------------------------------------------------------------------------


def split_questions(job: TaskJob) -> tuple[list[Query], list[Query]]:
    """The run's questions to train on, and those held out (by a hash of their text)."""
    questions = questions_of(job.task, job.data_file) if job.data_file is not None else []
    train = [q for q in questions if not held_out(q.text)]
    validation = [q for q in questions if held_out(q.text)]
    if questions and not validation:
        raise TuningError(
            f"none of the {len(questions)} questions falls in the held-out fifth: give more questions",
            field="data",
        )
    return train, validation


def retriever_fit(job: TaskJob) -> TaskFitted:
    """Tune the task's stock encoder on its pairs and score it beside the serving model."""
    from assistant.core.encoder import Embedder, encoder
    from assistant.training.contrastive import contrastive_fit
    from assistant.training.techniques import TaskFitted

    collections = task_collections(job.task)
    train, validation = split_questions(job)
    passages = Passages.of(collections)
    serving = encoder(collections[0].embedding_model)
    rng = random.Random(job.config.seed)
    validation_vectors = serving.embed([q.text for q in validation])
    asked = question_pairs(train, serving.embed([q.text for q in train]), passages, rng)
    sections = heading_pairs(passages)
    helpful = helpful_pairs(collections, passages, skip={q.text for q in validation})
    pairs = [*asked, *sections, *helpful]
    validation_pairs = question_pairs(validation, validation_vectors, passages, rng)
    sizes = {
        "questions": len(train),
        "question_pairs": len(asked),
        "heading_pairs": len(sections),
        "helpful_pairs": len(helpful),
        "validation_questions": len(validation),
        "passages": len(passages.ids),
    }
    model_folder = job.folder / MODEL_FOLDER
    tuned = contrastive_fit(
        pairs,
        validation_pairs,
        job.config,
        model_folder,
        on_progress=job.on_progress,
        should_stop=job.should_stop,
    )
    metrics: dict[str, Any] = {"pairs": sizes}
    if validation:
        before = retrieval_metrics(validation, validation_vectors, passages.vectors, passages)
        candidate: TextEncoder = Embedder(str(model_folder))
        after = retrieval_metrics(
            validation,
            candidate.embed([q.text for q in validation]),
            candidate.embed(passages.texts),
            passages,
        )
        metrics |= {**after, "score": after[f"ndcg@{K}"]}
        metrics["active"] = {"model": serving.name, **before, "score": before[f"ndcg@{K}"]}
    else:
        metrics |= {"score": 0.0, "active": {"model": serving.name, "score": 0.0}}
    return TaskFitted(
        manifest={"model": MODEL_FOLDER, "collections": [c.name for c in collections]},
        metrics=metrics,
        dataset_hash=items_hash([(p.query, p.positive) for p in pairs]),
        validation_hash=items_hash(sorted(q.text for q in validation)),
        dataset_sizes=sizes,
        device=tuned.device,
        history=tuned.history,
    )


def items_hash(items: Any) -> str:
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


# Serving --------------------------------------------------------------------------------------


def tuned_model(version: ModelVersion) -> str:
    """The name the encoder loads a version's tuned model by: its directory."""
    return str(Path(version.artefact_path) / MODEL_FOLDER)


def _serving(task: str, fallback: ModelVersion) -> tuple[str, ModelVersion | None]:
    """The model the task's collections should be embedded with: its active version's, else the
    stock model (what its versions were tuned from)."""
    active = ModelVersion.objects.filter(task=task, status=ModelVersion.Status.ACTIVE).first()
    if active is not None:
        return tuned_model(active), active
    return fallback.base_model, None


def _behind(task: str, fallback: ModelVersion) -> tuple[list[Collection], str, ModelVersion | None]:
    model, version = _serving(task, fallback)
    version_id = version.pk if version is not None else None
    behind = [
        c
        for c in task_collections(task)
        if c.embedding_model != model or c.embedding_version_id != version_id
    ]
    return behind, model, version


def retriever_prepare(version: ModelVersion) -> None:
    """Re-embed the task's collections with the model the registry says serves it now: an
    activation's or a rollback's, each collection in one switch. Checked again after each pass, so
    that a switch begun before a later activation is followed by that activation's."""
    from assistant.knowledge.services.reembedding import collection_reembed

    while True:
        behind, model, serving = _behind(version.task, version)
        if not behind:
            return
        for collection in behind:
            collection_reembed(collection=collection, model_name=model, version=serving)


def retriever_prepared(version: ModelVersion) -> bool:
    return not _behind(version.task, version)[0]
