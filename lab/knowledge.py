"""Knowledge studies: retrieval (RAG) against fine-tuning the knowledge in, on a collection with
questions (the `evaluate_retrieval` format), and what each does when the knowledge changes.

Every technique answers a question with a knowledge entry (a document of the collection):
- `rag` searches a scratch copy of the collection with the hybrid search, as the answer paths do;
- `knn` votes with the nearest of its examples, and a fine-tuning method (`lora`, `full`,
  `qlora`) is a closed-book classifier over the entries; both are fitted by the platform's
  techniques on the training questions plus each entry's own text (with the training questions
  alone, knn could never name an entry nobody asked about before).
A closed-book model answers from the version of an entry it was fitted on; retrieval from the
version its index holds. The study's change revises a share of the entries (a new version whose
text differs) and adds others (held back until then), then measures how long each technique takes
to serve the current versions (re-index, insert, retrain) and how many of the questions about them
it answers from the current version over that time.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from assistant.core.errors import ApplicationError
from assistant.knowledge.datasets import split_of
from assistant.knowledge.evaluation import scores
from assistant.knowledge.models import Collection, Document, DocumentStatus
from assistant.knowledge.parsers import Block, ParsedDocument
from assistant.training.config import FINE_TUNING, TrainingConfig
from assistant.training.registry import Example
from lab.dispatch import arm_fit_later
from lab.models import SCRATCH_PREFIX, Arm, Status, Study
from lab.services import ENDED, StudyError, arm_end, arm_stage, arm_start

logger = logging.getLogger("finassist.lab")

KNOWLEDGE_TECHNIQUES = ("rag", "knn", *FINE_TUNING)
DEFAULT_KNOWLEDGE_TECHNIQUES = ("rag", "knn", "lora")
REVISE_SHARE = 0.10
ADD_SHARE = 0.05
K = 10
CHUNKS_PER_ENTRY = 4  # chunks a search fetches for each entry it ranks (several chunks count once)
ENTRY_CHARS = 2000  # of an entry's text, as a training example (the encoder truncates sooner)
MIN_TRAINING_QUESTIONS = 10
HELD_SHARE = 0.1  # of the training questions, each for calibration and validation
UPDATE_HOW = {"rag": "re-index", "knn": "insert"}
QUESTION_DATASETS = ("ask_cfpb", "financebench")  # the datasets whose questions a study can take


@dataclass(frozen=True)
class Question:
    text: str
    relevant: tuple[str, ...]
    split: str  # "train" or "test"


@dataclass(frozen=True)
class Entry:
    external_id: str
    title: str
    blocks: tuple[Block, ...]
    version: int = 1

    @property
    def text(self) -> str:
        return f"{self.title}\n" + "\n".join(block.text for block in self.blocks)[:ENTRY_CHARS]

    def revised(self, day: str) -> Entry:
        """A new version whose text differs: a dated notice, then the paragraphs in reverse order."""
        notice = Block(f"Revised on {day}: this answer replaces the earlier version of {self.title}.")
        return Entry(self.external_id, self.title, (notice, *reversed(self.blocks)), self.version + 1)

    def parsed(self) -> ParsedDocument:
        return ParsedDocument(self.external_id, self.title, list(self.blocks))


# Questions ---------------------------------------------------------------------------------------


def dataset_questions(name: str) -> list[dict[str, Any]]:
    """A dataset's questions: the half that tunes the search trains here, the other half tests."""
    from assistant.knowledge.datasets import eval_queries

    return [
        {**row, "split": "train" if split_of(key) == "validation" else "test"}
        for key, row in eval_queries(name)
    ]


def questions_checked(rows: Iterable[Any], entries: Iterable[str]) -> list[Question]:
    """Questions of the `evaluate_retrieval` format ({"query", "relevant", "split"?}) about entries of
    the collection; without a split, a hash of the text gives half of them to each. Page labels
    (`id#p3`) count as their document."""
    known = set(entries)
    found = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict) or not isinstance(row.get("query"), str) or not row["query"].strip():
            raise StudyError(
                f"question {number}: expected {{'query': ..., 'relevant': [...]}}", field="questions"
            )
        relevant = row.get("relevant")
        if not isinstance(relevant, list) or not relevant:
            raise StudyError(f"question {number}: needs a non-empty list of relevant ids", field="questions")
        split = row.get("split") or ("train" if split_of(row["query"]) == "validation" else "test")
        if split not in ("train", "test"):
            raise StudyError(
                f"question {number}: split must be train or test, not {split!r}", field="questions"
            )
        ids = tuple(dict.fromkeys(str(label).split("#p")[0] for label in relevant))
        if any(i in known for i in ids):
            found.append(Question(" ".join(row["query"].split()), tuple(i for i in ids if i in known), split))
    return found


# A study -----------------------------------------------------------------------------------------


def knowledge_study_create(
    *,
    collection: str,
    questions: Sequence[Any] | None = None,
    dataset: str = "",
    techniques: Sequence[str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    answers: dict[str, Any] | None = None,
    seed: int = 42,
    user: User | None = None,
    dispatch: bool = True,
) -> Study:
    """Validate and plan a knowledge study of `collection` on `questions` (or a dataset's); with
    `dispatch`, send each technique to its worker."""
    from lab.recommend import Answers

    found = Collection.objects.filter(name=collection).first()
    if found is None:
        raise StudyError(f"no collection {collection!r}", field="collection")
    entries = list(
        Document.objects.filter(collection=found, status=DocumentStatus.READY)
        .order_by("external_id")
        .values_list("external_id", flat=True)
    )
    if len(entries) < 4:
        raise StudyError(
            f"collection {collection} has {len(entries)} ready documents; a study needs 4 or more"
        )
    if bool(questions) == bool(dataset):
        raise StudyError(
            "give the questions or the dataset they come from, one of the two", field="questions"
        )
    if dataset:
        try:
            rows = dataset_questions(dataset)
        except (ApplicationError, KeyError) as error:
            raise StudyError(str(getattr(error, "message", error)), field="dataset") from None
    else:
        rows = list(questions or [])
    checked = questions_checked(rows, entries)
    train = [q for q in checked if q.split == "train"]
    test = [q for q in checked if q.split == "test"]
    if not test or len(train) < MIN_TRAINING_QUESTIONS:
        raise StudyError(
            f"{len(train)} training and {len(test)} test questions about the collection's documents: a study "
            f"needs test questions and {MIN_TRAINING_QUESTIONS} training questions or more",
            field="questions",
        )
    chosen = list(dict.fromkeys(techniques or DEFAULT_KNOWLEDGE_TECHNIQUES))
    if unknown := [t for t in chosen if t not in KNOWLEDGE_TECHNIQUES]:
        raise StudyError(
            f"unknown techniques: {', '.join(unknown)} "
            f"(a knowledge study compares {', '.join(KNOWLEDGE_TECHNIQUES)})",
            field="techniques",
        )
    options = options or {}
    if stray := sorted(set(options) - (set(chosen) - {"rag"})):
        raise StudyError(f"options for techniques that take none here: {', '.join(stray)}", field="options")
    for technique, given in options.items():
        TrainingConfig.build({**given, "method": technique})  # refuse a bad option now
    if dispatch and settings.CELERY_TASK_ALWAYS_EAGER:
        raise StudyError(
            "a study runs on Celery workers and none is connected (tasks run in-process); start a broker "
            "and worker, or use `manage.py compare_knowledge`"
        )
    added, revised = _change(entries, test, seed)
    with transaction.atomic():
        study = Study.objects.create(
            kind=Study.Kind.KNOWLEDGE,
            task=collection,
            techniques=chosen,
            answers=Answers.build(answers or {}).as_dict(),
            seed=seed,
            test_share=round(len(test) / len(checked), 4),
            curve_sizes=[],
            plan={
                "source": dataset or "questions given",
                "questions": [
                    {"query": q.text, "relevant": list(q.relevant), "split": q.split} for q in checked
                ],
                "entries": len(entries),
                "revised": revised,
                "added": added,
                "options": options,
            },
            created_by=user if user is not None and user.is_authenticated else None,
        )
        for technique in chosen:
            arm = Arm.objects.create(study=study, technique=technique)
            if dispatch:
                arm_fit_later(arm.pk, fine_tuning=technique in FINE_TUNING)
    logger.info(
        "knowledge study %s of %s: %s; %d entries revised, %d added",
        study.pk, collection, ", ".join(chosen), len(revised), len(added),
    )  # fmt: skip
    return study


def _change(entries: list[str], test: list[Question], seed: int) -> tuple[list[str], list[str]]:
    """The entries added by the change (held back until then: entries test questions ask about, so
    that each comes with questions) and those revised (any others)."""
    chance = random.Random(f"{seed}:change")
    asked = sorted({i for q in test for i in q.relevant})
    added = sorted(chance.sample(asked, min(max(1, round(ADD_SHARE * len(entries))), len(asked) // 2 or 1)))
    rest = [i for i in entries if i not in set(added)]
    revised = sorted(chance.sample(rest, min(max(1, round(REVISE_SHARE * len(entries))), len(rest) - 1)))
    return added, revised


# An arm, on its worker ---------------------------------------------------------------------------


@dataclass
class _Setting:
    """What an arm works from: the entries before and after the change, and the questions."""

    study: Study
    before: dict[str, Entry]
    after: dict[str, Entry]
    train: list[Question]
    test: list[Question]

    @property
    def changed(self) -> set[str]:
        return {*self.study.plan["revised"], *self.study.plan["added"]}

    @property
    def affected(self) -> list[Question]:
        return [q for q in self.test if set(q.relevant) & self.changed]


def _setting(study: Study) -> _Setting:
    documents = Document.objects.filter(collection__name=study.task, status=DocumentStatus.READY).values_list(
        "external_id", "title", "content"
    )
    entries = {
        external_id: Entry(external_id, title, tuple(Block.from_dict(block) for block in content))
        for external_id, title, content in documents
    }
    plan = study.plan
    day = study.created_at.date().isoformat()
    before = {i: entry for i, entry in entries.items() if i not in set(plan["added"])}
    after = {**entries, **{i: entries[i].revised(day) for i in plan["revised"] if i in entries}}
    questions = [Question(q["query"], tuple(q["relevant"]), q["split"]) for q in plan["questions"]]
    return _Setting(
        study,
        before,
        after,
        [q for q in questions if q.split == "train"],
        [q for q in questions if q.split == "test"],
    )


def arm_run(arm_id: int, *, on_stage: Callable[[str], None] | None = None) -> str:
    """Fit, measure and update one technique of a knowledge study on this worker: ENDED, or
    STUDY_DONE where it was the study's last arm to end."""
    from assistant.training.engine import TrainingCancelled

    arm = arm_start(arm_id)
    if arm is None:
        return ENDED

    def stage(text: str) -> None:
        arm_stage(arm.pk, text)
        if on_stage is not None:
            on_stage(text)

    def cancelled() -> bool:
        return Study.objects.filter(pk=arm.study_id, cancel_requested=True).exists()

    setting = _setting(arm.study)
    folder = settings.MODELS_DIR / "lab" / f"knowledge-study-{arm.study_id}" / arm.technique
    measure = _rag if arm.technique == "rag" else _closed_book
    try:
        results = measure(setting, arm.technique, folder, stage, cancelled)
    except TrainingCancelled:
        return arm_end(arm, Status.CANCELLED)
    except Exception as error:
        if not isinstance(error, ApplicationError):
            logger.exception("knowledge study %s: %s failed", arm.study_id, arm.technique)
        reason = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        return arm_end(arm, Status.FAILED, error=reason)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if results is None:
        return arm_end(arm, Status.CANCELLED)
    Arm.objects.filter(pk=arm.pk).update(results=results)
    return arm_end(arm, Status.SUCCEEDED)


Ranker = Callable[[list[str]], list[list[tuple[str, int]]]]  # texts -> ranked (entry, version held)


def _quality(rank: Ranker, questions: list[Question]) -> dict[str, Any]:
    totals: dict[str, float] = {}
    ranked = rank([q.text for q in questions])
    for question, found in zip(questions, ranked, strict=True):
        for name, value in scores([i for i, _ in found], frozenset(question.relevant), K).items():
            totals[name] = totals.get(name, 0.0) + value
    means = {name: round(value / len(questions), 4) for name, value in totals.items()}
    return {"top1": means["recall@1"], **means, "questions": len(questions)}


def _answered(rank: Ranker, setting: _Setting) -> list[tuple[str, str]]:
    """For each question the change affects, its top entry and how it is answered: "current" (a
    relevant entry, served at its current version), "stale" (an older version) or "wrong"."""
    found = []
    for question, ranked in zip(setting.affected, rank([q.text for q in setting.affected]), strict=True):
        top, version = ranked[0] if ranked else ("", 0)
        if top not in question.relevant:
            found.append((top, "wrong"))
        else:
            found.append((top, "current" if version == setting.after[top].version else "stale"))
    return found


def _freshness(
    how: str, before: list[str], after: list[str], served_at: list[float], setting: _Setting
) -> dict[str, Any]:
    """The share of the affected questions answered from the current version over the seconds after
    the change reached the technique: each question counts from the moment the entry it is answered
    from was served at its new version (`served_at`), as it is answered once the change is done."""
    total = max(len(after), 1)
    moments = sorted(at for state, at in zip(after, served_at, strict=True) if state == "current")
    curve = [[0.0, round(before.count("current") / total, 4)]]
    curve += [[round(at, 3), round(count / total, 4)] for count, at in enumerate(moments, start=1)]
    return {
        "how": how,
        "revised": len(setting.study.plan["revised"]),
        "added": len(setting.study.plan["added"]),
        "questions": len(after),
        "before": {
            "current": round(before.count("current") / total, 4),
            "stale": round(before.count("stale") / total, 4),
        },
        "after": round(after.count("current") / total, 4),
        "seconds": round(max(served_at, default=0.0), 3),
        "curve": curve,
    }


def _speed(rank: Ranker, setting: _Setting) -> dict[str, float]:
    from assistant.training.costs import serving_speed

    return serving_speed(rank, [q.text for q in setting.test], batch_texts=0)


def _rag(
    setting: _Setting,
    technique: str,
    folder: Path,
    stage: Callable[[str], None],
    cancelled: Callable[[], bool],
) -> dict[str, Any] | None:
    """Index a scratch copy of the collection (its fit), search it, change it, index the change."""
    from assistant.training.costs import measured

    study = setting.study
    source = Collection.objects.get(name=study.task)
    name = f"{SCRATCH_PREFIX}{study.pk}-{source.name}"[:100]
    Collection.objects.filter(name=name).delete()  # a copy left by a worker that died
    scratch = Collection.objects.create(
        name=name,
        description=f"scratch copy of {source.name} for knowledge study {study.pk}",
        embedding_model=source.embedding_model,
        second_embedding_model=source.second_embedding_model,
    )
    try:
        with measured() as cost:
            _index(scratch, setting.before.values(), stage, "indexing")
        if cancelled():
            return None
        rank = _searcher(scratch.name)
        stage("searching")
        results: dict[str, Any] = {
            "test": _quality(rank, setting.test),
            "speed": _speed(rank, setting),
            "cost": {
                "fit_seconds": round(cost.seconds, 3),
                "fit_device": "cpu",
                "artefact_bytes": _partition_bytes(scratch.pk),
                "peak_memory_bytes": cost.peak_memory_bytes,
            },
        }
        before = [state for _, state in _answered(rank, setting)]
        changed = [setting.after[i] for i in sorted(setting.changed)]
        started = timezone.now()
        documents = _index(scratch, changed, stage, "re-indexing")
        indexed = {
            external_id: (at - started).total_seconds()
            for external_id, at in Document.objects.filter(pk__in=documents).values_list(
                "external_id", "indexed_at"
            )
            if at is not None
        }
        after = _answered(rank, setting)
        served_at = [indexed.get(top, 0.0) for top, _ in after]
        results["freshness"] = _freshness(
            "re-index", before, [state for _, state in after], served_at, setting
        )
        return results
    finally:
        scratch.delete()


def _index(
    collection: Collection, entries: Iterable[Entry], stage: Callable[[str], None], doing: str
) -> list[int]:
    """Submit and index entries in `collection` here and now (as the ingest worker would)."""
    from assistant.knowledge.services.indexing import documents_index
    from assistant.knowledge.services.lexicon import lexicon_refresh
    from assistant.knowledge.services.submission import document_submit

    ids = [
        document_submit(collection=collection, parsed=entry.parsed(), enqueue=False).document.pk
        for entry in entries
    ]

    def progress(step: str, done: int, total: int) -> None:
        stage(f"{doing} ({step}) {done}/{total}")

    report = documents_index(ids, on_progress=progress)
    if report.failed:
        raise StudyError(
            f"{len(report.failed)} entries could not be indexed: {next(iter(report.failed.values()))}"
        )
    lexicon_refresh()
    return ids


def _searcher(collection: str) -> Ranker:
    from assistant.knowledge.evaluation import ranked_units
    from assistant.knowledge.search import Reader, SearchRequest, knowledge_search

    def rank(texts: list[str]) -> list[list[tuple[str, int]]]:
        found = []
        for text in texts:
            results = knowledge_search(
                reader=Reader.system(),
                request=SearchRequest(query=text, k=K * CHUNKS_PER_ENTRY, collections=[collection]),
            ).results
            versions: dict[str, int] = {}
            for result in results:
                versions.setdefault(result.external_id, result.version)
            found.append([(i, versions[i]) for i in ranked_units(results, pages=False)][:K])
        return found

    return rank


def _partition_bytes(collection_id: int) -> int:
    from django.db import connection

    from assistant.knowledge.partitions import partition_name

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [partition_name(collection_id)])
        return int(cursor.fetchone()[0])


def _closed_book(
    setting: _Setting,
    technique: str,
    folder: Path,
    stage: Callable[[str], None],
    cancelled: Callable[[], bool],
) -> dict[str, Any] | None:
    """Fit on the training questions and the entries' texts; for the change, knn inserts the
    changed entries' texts and a fine-tuned classifier is trained again on the changed entries."""
    from assistant.training.models import ExampleIndex

    study = setting.study
    name = f"lab-knowledge-{study.pk}"
    options = {**study.plan["options"].get(technique, {}), "method": technique, "seed": study.seed}
    try:
        stage("fitting")
        fitted, cost = _fit(name, options, setting, setting.before, folder / "before", stage, cancelled)
        held = {i: entry.version for i, entry in setting.before.items()}
        rank = _classifier(fitted.predictor, held)
        stage("measuring")
        results: dict[str, Any] = {
            "test": _quality(rank, setting.test),
            "speed": _speed(rank, setting),
            "cost": cost,
        }
        before = [state for _, state in _answered(rank, setting)]
        changed = [setting.after[i] for i in sorted(setting.changed)]
        stage("updating")
        if technique == "knn":
            held.update({entry.external_id: entry.version for entry in changed})
            seconds = _insert(fitted.predictor, changed, rank)
        else:
            refitted, recost = _fit(name, options, setting, setting.after, folder / "after", stage, cancelled)
            rank = _classifier(refitted.predictor, {i: entry.version for i, entry in setting.after.items()})
            seconds = recost["fit_seconds"]
        after = [state for _, state in _answered(rank, setting)]
        results["freshness"] = _freshness(
            UPDATE_HOW.get(technique, "retrain"), before, after, [seconds] * len(after), setting
        )
        if technique in FINE_TUNING:
            from lab.measure import forgetting

            stage("forgetting")
            base_model = TrainingConfig.build(options).base_model
            results["forgetting"] = forgetting(fitted.predictor, base_model, excluding=study.plan["source"])
        return results
    finally:
        ExampleIndex.objects.filter(task=name).delete()


def _fit(
    name: str,
    options: dict[str, Any],
    setting: _Setting,
    entries: dict[str, Entry],
    folder: Path,
    stage: Callable[[str], None],
    cancelled: Callable[[], bool],
) -> tuple[Any, dict[str, Any]]:
    """Fit a technique to map questions to entries, as the platform fits a classification task."""
    from assistant.training.costs import measured
    from assistant.training.data import Splits
    from assistant.training.registry import TaskSpec
    from assistant.training.techniques import Job, Progress, technique
    from assistant.training.techniques.artefact import folder_bytes

    labels = sorted(entries)
    asked = [Example(q.text, label) for q in setting.train for label in q.relevant if label in entries]
    random.Random(setting.study.seed).shuffle(asked)
    held = max(1, round(HELD_SHARE * len(asked)))
    parts = {
        "calibration": asked[:held],
        "validation": asked[held : 2 * held],
        "train": asked[2 * held :] + [Example(entries[i].text, i) for i in labels],
    }
    examples = [e for part in parts.values() for e in part]
    spec = TaskSpec(name=name, labels=tuple(labels), examples=lambda: examples)
    config = TrainingConfig.build(options)

    def progress(report: Progress) -> None:
        if report.total_steps:
            stage(f"fitting {report.step}/{report.total_steps}")

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    job = Job(spec, Splits(**parts), config, folder, progress, cancelled)
    with measured() as cost:
        fitted = technique(config.method).fit(job)
    return fitted, {
        "fit_seconds": round(cost.seconds, 3),
        "fit_device": fitted.device,
        "artefact_bytes": folder_bytes(folder) + fitted.stored_bytes,
        "peak_memory_bytes": cost.peak_memory_bytes,
    }


def _classifier(predictor: Any, held: dict[str, int]) -> Ranker:
    """Rank entries by the predictor's probabilities; each answered at the version it was fitted
    on (`held` is read when it ranks: knn's inserts change it)."""
    import numpy as np

    def rank(texts: list[str]) -> list[list[tuple[str, int]]]:
        scored = predictor.scores(texts)
        order = np.argsort(-scored.probabilities, axis=1, kind="stable")[:, :K]
        return [
            [(scored.labels[j], held[scored.labels[j]]) for j in row if scored.probabilities[n, j] > 0]
            for n, row in enumerate(order)
        ]

    return rank


def _insert(predictor: Any, entries: list[Entry], rank: Ranker) -> float:
    """Seconds until knn serves the changed entries: embed and insert their texts, then predict."""
    from assistant.training.services import index_examples_add

    started = time.perf_counter()
    examples = [Example(entry.text, entry.external_id) for entry in entries]
    index_examples_add(predictor.index_id, examples, predictor.manifest["base_model"])
    rank([entries[0].text])
    return round(time.perf_counter() - started, 3)
