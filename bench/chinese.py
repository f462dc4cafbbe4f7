"""English and Chinese side by side: retrieval, chat routing, and what the multilingual model costs.

    .venv/bin/python bench/chinese.py [--skip-quality] [--skip-routing]

Runs in its own database (finassist_bench). Loads Ask CFPB three times when it is not there yet:
into `ask-cfpb` on all-MiniLM-L6-v2, into `ask-cfpb-multilingual` on multilingual-e5-small
(`load_dataset --collection --embedding-model`), and into `ask-cfpb-bilingual` on MiniLM with the
multilingual model as its second (`--second-embedding-model`), timing each load. Then:

- encoders: one question's embedding, p50/p95 over 100 after 10 unmeasured; ingestion of the
  first 150 Ask CFPB documents (chunk, embed, store: chunks and tokens a second); MiniLM against
  the multilingual one.
- calibration: each model's mean cosine similarity of a validation question with its answer and
  with a random other answer (150 questions): the constants `assistant.core.e5` and
  `assistant.core.encoder` map the multilingual model's similarities with.
- agreement (what the vendor's model card claims and retrieval across languages relies on): the
  share of the Chinese test questions whose nearest English test question is its own original.
- translation (what chose `assistant.core.crosslingual`'s settings): the validation half of Ask
  CFPB asked in Chinese (bench/data/ask_cfpb_validation_zh.jsonl, our translations) against the
  multilingual collection: hybrid nDCG@10 as asked, through the vector map alone (at each
  strength), the word table alone, and both; the map and table are fitted on the parallel
  questions that ship with the project, never on these.
- quality: the test half of Ask CFPB (374 questions, never used to choose anything here), asked in
  English and in Chinese (bench/data/ask_cfpb_test_zh.jsonl, our translations), against each
  collection: nDCG@10 and recall@10 of hybrid search (the configured fusion) and of vector search,
  Chinese questions also as asked (no translation), with a bootstrap interval of the English
  difference of each other collection from MiniLM's.
- routing: `chat-intent-multilingual` (knn over the multilingual model's embeddings of Banking77's
  English training messages) on 231 Chinese messages written for the project
  (assistant/chat/data/intents-zh-test.csv); beside it the same knn over MiniLM, which is what
  forcing Chinese through an English-only encoder gives.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

from common import ROOT, bootstrap_interval, django_setup, summary_ms, use_database, write_result

use_database("finassist_bench")
django_setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from assistant.chat.intents import CHAT_INTENT, CHAT_INTENT_MULTILINGUAL, INTENTS  # noqa: E402
from assistant.core.crosslingual import query_map  # noqa: E402
from assistant.core.e5 import MULTILINGUAL_MODEL  # noqa: E402
from assistant.core.encoder import encoder  # noqa: E402
from assistant.core.hf import BUNDLED_MODEL  # noqa: E402
from assistant.knowledge.datasets import eval_split  # noqa: E402
from assistant.knowledge.evaluation import ranked_units, scores  # noqa: E402
from assistant.knowledge.models import Chunk, Collection, DocumentStatus  # noqa: E402
from assistant.knowledge.search import Mode, Reader, SearchRequest, knowledge_search  # noqa: E402
from assistant.training.data import examples_read  # noqa: E402

MODELS = {"minilm": BUNDLED_MODEL, "multilingual": MULTILINGUAL_MODEL}
COLLECTIONS = {
    "minilm": "ask-cfpb",
    "multilingual": "ask-cfpb-multilingual",
    "bilingual": "ask-cfpb-bilingual",
}
# Each collection's first and second embedding models.
EMBEDDED_WITH = {
    "minilm": (BUNDLED_MODEL, ""),
    "multilingual": (MULTILINGUAL_MODEL, ""),
    "bilingual": (BUNDLED_MODEL, MULTILINGUAL_MODEL),
}
CHINESE_QUESTIONS = ROOT / "bench" / "data" / "ask_cfpb_test_zh.jsonl"
CHINESE_VALIDATION = ROOT / "bench" / "data" / "ask_cfpb_validation_zh.jsonl"
STRENGTHS = (0.1, 0.3, 1.0, 3.0)
CHINESE_MESSAGES = ROOT / "assistant" / "chat" / "data" / "intents-zh-test.csv"


def _loaded() -> dict[str, float | None]:
    """Each collection loaded (the seconds a load took in this run, None when it was there)."""
    seconds: dict[str, float | None] = {}
    for key, name in COLLECTIONS.items():
        if Collection.objects.filter(name=name, documents__status=DocumentStatus.READY).exists():
            seconds[key] = None
            continue
        started = time.perf_counter()
        first, second = EMBEDDED_WITH[key]
        call_command(
            "load_dataset",
            "ask_cfpb",
            collection=name,
            embedding_model=first,
            second_embedding_model=second,
            verbosity=0,
        )
        seconds[key] = round(time.perf_counter() - started, 1)
    return seconds


def encoders(documents: int = 150) -> dict[str, object]:
    """Each model's query latency and its ingestion: the same Ask CFPB documents chunked,
    embedded and stored by `documents_index` (one thread a core) into a scratch collection."""
    from assistant.knowledge.datasets import DATASETS
    from assistant.knowledge.services.indexing import documents_index
    from assistant.knowledge.services.submission import collection_get_or_create, document_submit

    dataset = DATASETS["ask_cfpb"]
    parsed = [document for _, document in zip(range(documents), dataset.load(dataset.path()), strict=False)]
    out: dict[str, object] = {}
    for key, name in MODELS.items():
        model = encoder(name)
        samples = []
        for number in range(110):
            started = time.perf_counter()
            model.embed_query(f"how do I dispute a charge on my credit card statement number {number}?")
            if number >= 10:
                samples.append(time.perf_counter() - started)
        scratch = f"ingestion-{key}"
        Collection.objects.filter(name=scratch).delete()
        collection = collection_get_or_create(name=scratch, embedding_model=name)
        ids = [document_submit(collection=collection, parsed=p, enqueue=False).document.pk for p in parsed]
        started = time.perf_counter()
        report = documents_index(ids)
        elapsed = time.perf_counter() - started
        tokens = sum(Chunk.objects.filter(collection=collection).values_list("token_count", flat=True))
        Collection.objects.filter(name=scratch).delete()
        out[key] = {
            "model": name,
            "query_ms": summary_ms(samples),
            "ingestion": {
                "documents": report.indexed,
                "chunks": report.chunks,
                "seconds": round(elapsed, 1),
                "chunks_per_s": round(report.chunks / elapsed, 2),
                "tokens_per_s": round(tokens / elapsed, 1),
            },
        }
        print(f"  encoder {key}: {out[key]}", flush=True)
    return out


def calibration(questions: int = 150) -> dict[str, object]:
    answers = dict(
        Chunk.objects.filter(collection__name=COLLECTIONS["minilm"], position=0).values_list(
            "document__external_id", "text"
        )
    )
    rows = [row for row in eval_split("ask_cfpb", "validation") if row["relevant"][0] in answers][:questions]
    rng = random.Random(0)
    others = [rng.choice(list(answers)) for _ in rows]
    out: dict[str, object] = {}
    for key, name in MODELS.items():
        model = encoder(name)
        asked = np.stack([model.embed_query(row["query"]) for row in rows])
        related = (asked * model.embed([answers[row["relevant"][0]] for row in rows])).sum(axis=1)
        unrelated = (asked * model.embed([answers[other] for other in others])).sum(axis=1)
        out[key] = {
            "related_mean": round(float(related.mean()), 3),
            "unrelated_mean": round(float(unrelated.mean()), 3),
            "related_p10": round(float(np.percentile(related, 10)), 3),
            "unrelated_p90": round(float(np.percentile(unrelated, 90)), 3),
        }
    out["questions"] = len(rows)
    print(f"  calibration: {out}", flush=True)
    return out


def _questions() -> dict[str, list[dict[str, object]]]:
    english = {str(row["key"]): row for row in _keyed_test_half()}
    chinese = [json.loads(line) for line in CHINESE_QUESTIONS.read_text().splitlines() if line.strip()]
    assert [row["key"] for row in chinese] == list(english), "the Chinese file follows the test half"
    return {"en": list(english.values()), "zh": chinese}


def _keyed_test_half() -> list[dict[str, object]]:
    from assistant.knowledge.datasets import eval_queries, split_of

    return [
        {"key": key, "query": row["query"], "relevant": row["relevant"]}
        for key, row in eval_queries("ask_cfpb")
        if split_of(key) == "test"
    ]


def agreement(questions: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    model = encoder(MULTILINGUAL_MODEL)
    english = np.stack([model.embed_query(str(row["query"])) for row in questions["en"]])
    chinese = np.stack([model.embed_query(str(row["query"])) for row in questions["zh"]])
    nearest = (chinese @ english.T).argmax(axis=1)
    hits = float(np.mean(nearest == np.arange(len(english))))
    out: dict[str, object] = {
        "questions": len(english),
        "chinese_nearest_its_english_original": round(hits, 4),
    }
    mapped = query_map(MULTILINGUAL_MODEL, "zh", "en")
    if mapped:
        moved = np.stack([mapped(vector) for vector in chinese])
        hits = float(np.mean((moved @ english.T).argmax(axis=1) == np.arange(len(english))))
        out["mapped_chinese_nearest_its_english_original"] = round(hits, 4)
    print(f"  agreement: {out}", flush=True)
    return out


def quality(questions: dict[str, list[dict[str, object]]]) -> dict[str, object]:
    per_query: dict[str, list[float]] = {}
    out: dict[str, object] = {"queries": len(questions["en"]), "fusion": settings.SEARCH_FUSION}
    for language, rows in questions.items():
        for key, collection in COLLECTIONS.items():
            for mode in ("hybrid", "vector"):
                for translate in (True, False) if language == "zh" else (True,):
                    name = f"{language}_{key}_{mode}" + ("" if translate else "_as_asked")
                    per_query[name], out[name] = _searched(rows, collection, mode=mode, translate=translate)
                    print(f"  {name}: {out[name]}", flush=True)
    for key in ("multilingual", "bilingual"):
        for mode in ("hybrid", "vector"):
            differences = [
                m - s
                for m, s in zip(per_query[f"en_{key}_{mode}"], per_query[f"en_minilm_{mode}"], strict=True)
            ]
            out[f"en_{key}_minus_minilm_{mode}"] = {
                "ndcg@10": round(float(np.mean(differences)), 4),
                "95ci": bootstrap_interval(differences),
            }
    return out


def _searched(
    rows: list[dict[str, Any]], collection: str, *, mode: Mode = "hybrid", translate: bool = True
) -> tuple[list[float], dict[str, object]]:
    """Each question's nDCG@10, and the mean nDCG@10 and recall@10 and the search's latency."""
    ndcg, recall, latency = [], [], []
    for row in rows:
        started = time.perf_counter()
        request = SearchRequest(
            query=str(row["query"]),
            k=40,
            collections=[collection],
            mode=mode,
            translate=translate,  # type: ignore[arg-type]
        )
        results = knowledge_search(reader=Reader.system(), request=request).results
        latency.append(time.perf_counter() - started)
        measured = scores(ranked_units(results, pages=False), frozenset(row["relevant"]), 10)
        ndcg.append(measured["ndcg@10"])
        recall.append(measured["recall@10"])
    return ndcg, {
        "ndcg@10": round(float(np.mean(ndcg)), 4),
        "recall@10": round(float(np.mean(recall)), 4),
        "search_ms": summary_ms(latency),
    }


def translation() -> dict[str, object]:
    """The Chinese validation questions through each part of the translation, each fitted on the
    shipped parallel questions into a scratch folder the search reads instead of the shipped one."""
    import tempfile
    from pathlib import Path

    from assistant.core import crosslingual

    rows = [json.loads(line) for line in CHINESE_VALIDATION.read_text().splitlines() if line.strip()]
    pairs = crosslingual.parallel_questions()
    model = encoder(MULTILINGUAL_MODEL)
    started = time.perf_counter()
    chinese = np.stack([model.embed_query(pair["zh"]) for pair in pairs])
    english = np.stack([model.embed_query(pair["en"]) for pair in pairs])
    embedded_s = time.perf_counter() - started
    shipped_words = crosslingual.DATA / "words.zh-en.json"
    collection = COLLECTIONS["multilingual"]
    out: dict[str, object] = {
        "questions": len(rows),
        "pairs": len(pairs),
        "pairs_embedded_s": round(embedded_s, 1),
    }
    shipped = crosslingual.DATA

    def measured(name: str, strength: float | None, words: bool) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            crosslingual.DATA = Path(scratch)
            if strength is not None:
                matrix = crosslingual.ridge_map(chinese, english, strength)
                np.save(Path(scratch) / f"{MULTILINGUAL_MODEL}.zh-en.npy", matrix)
            if words:
                (Path(scratch) / shipped_words.name).write_bytes(shipped_words.read_bytes())
            crosslingual.query_map.cache_clear()
            crosslingual.word_table.cache_clear()
            try:
                _, out[name] = _searched(rows, collection)
            finally:
                crosslingual.DATA = shipped
                crosslingual.query_map.cache_clear()
                crosslingual.word_table.cache_clear()
        print(f"  translation {name}: {out[name]}", flush=True)

    measured("as_asked", None, words=False)
    measured("words", None, words=True)
    for strength in STRENGTHS:
        measured(f"map_{strength}", strength, words=False)
        measured(f"map_{strength}_and_words", strength, words=True)
    out["strength_chosen"] = crosslingual.DEFAULT_STRENGTH
    return out


def _knn_version(task: str) -> object:
    from assistant.training.models import ModelVersion
    from assistant.training.services import run_execute, run_submit

    version = ModelVersion.objects.filter(task=task, method="knn").order_by("-created_at").first()
    if version is None:
        run = run_execute(run_submit(task=task, options={"method": "knn"}, dispatch=False).pk)
        version = run.model_version
    return version


def routing() -> dict[str, object]:
    from assistant.training.inference import classifier_for
    from assistant.training.services import evaluate_examples

    messages = examples_read(CHINESE_MESSAGES, text_column="text", label_column="category", labels=INTENTS)
    out: dict[str, object] = {"messages": len(messages), "intents": len({m.label for m in messages})}
    for key, task in (("multilingual", CHAT_INTENT_MULTILINGUAL.name), ("minilm", CHAT_INTENT.name)):
        if task == CHAT_INTENT.name and not (settings.DATASETS_DIR / "banking77").is_dir():
            continue
        started = time.perf_counter()
        version = _knn_version(task)
        fitted_s = time.perf_counter() - started
        classifier = classifier_for(version)  # type: ignore[arg-type]
        metrics = evaluate_examples(classifier, messages)
        timings = []
        for message in messages[:60]:
            started = time.perf_counter()
            classifier.scores([message.text])
            timings.append(time.perf_counter() - started)
        out[key] = {
            "task": task,
            "accuracy": round(metrics["accuracy"], 4),
            "macro_f1": round(metrics["macro_f1"], 4),
            "abstain": metrics["abstain"],
            "per_message_ms": summary_ms(timings),
            "fit_s_this_run": round(fitted_s, 1),
        }
        print(f"  routing {key}: {out[key]}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-routing", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    results: dict[str, object] = {}
    if not (settings.DATASETS_DIR / "ask_cfpb").is_dir():
        raise SystemExit(f"no ask_cfpb under {settings.DATASETS_DIR}")
    load_s = _loaded()
    results["ingestion"] = {
        key: {"load_s": load_s[key], "chunks": Chunk.objects.filter(collection__name=name).count()}
        for key, name in COLLECTIONS.items()
    }
    for row in results["ingestion"].values():
        if row["load_s"]:
            row["chunks_per_s"] = round(row["chunks"] / row["load_s"], 1)
    results["encoders"] = encoders()
    results["calibration"] = calibration()
    questions = _questions()
    results["agreement"] = agreement(questions)
    if not args.skip_quality:
        results["translation_ask_cfpb_validation"] = translation()
        results["quality_ask_cfpb_test"] = quality(questions)
    if not args.skip_routing:
        results["routing_chinese_messages"] = routing()
    results["targets"] = {"zh_multilingual_hybrid_ndcg@10": 0.65, "en_loss_moving_to_multilingual": 0.02}
    write_result("chinese", results)


if __name__ == "__main__":
    main()
