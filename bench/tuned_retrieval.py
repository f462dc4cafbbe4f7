"""Tuned retrieval: the stock encoder against one tuned on each collection's own questions.

    .venv/bin/python bench/tuned_retrieval.py [--datasets ask_cfpb financebench] [--epochs 3]
                                              [--reranker-epochs 2] [--rerank-depth 3]
                                              [--skip-forgetting] [--latency-only]

Runs in its own database (finassist_bench), loading the collections it lacks. For each dataset,
its questions are split by question (`datasets.split_of`): the validation half trains the
retriever through the platform (`embedding:<collection>`, which holds out a fifth of it for its
own validation), the test half reports. Ask CFPB is searched as `evaluate_retrieval` does;
FinanceBench as an advisor's question is (narrowed to the company and year it names) and by
evidence page.

- Quality: nDCG@10, recall@10 and MRR@10 of hybrid and vector search, stock against tuned (the
  version activated, the collection re-embedded), with a bootstrap interval of the difference;
  the search's p50/p95 (query embedding included).
- Tuned and reranked: a reranker trained through the platform (`reranker:<collection>`, on the
  same validation half, its negatives mined by the tuned retriever) activated behind the tuned
  retriever whatever its own validation says, reordering the first `--rerank-depth` results
  (the collections' default depth unless given); the same figures, against stock and tuned.
- Cost: the fit's seconds, and the activation's re-embedding seconds per collection.
- Forgetting: each tuned model's exact vector search on the other collection, beside the stock
  model's; and each collection's search after the other collection's activation (its own model is
  unchanged, so it must score the same).

Each tuned version is rolled back once measured: the collections return to the stock model, and
to their rerank depth. Figures a run does not measure (the reranking latency without
`--rerank-depths`, forgetting with `--skip-forgetting`) keep their previous values.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    RESULTS,
    bootstrap_interval,
    django_setup,
    processor,
    summary_ms,
    use_database,
    write_result,
)

use_database("finassist_bench")
django_setup()

from django.core.management import call_command  # noqa: E402

from assistant.core.encoder import Embedder, encoder  # noqa: E402
from assistant.knowledge import reranking, tuning  # noqa: E402
from assistant.knowledge.datasets import eval_split  # noqa: E402
from assistant.knowledge.evaluation import Query, ranked_units, scores, uses_pages  # noqa: E402
from assistant.knowledge.facets import narrowed_search  # noqa: E402
from assistant.knowledge.models import RERANK_DEPTH, Collection, DocumentStatus  # noqa: E402
from assistant.knowledge.search import Reader, SearchRequest, knowledge_search  # noqa: E402
from assistant.knowledge.tuning import Passages, retrieval_metrics, tuned_model  # noqa: E402
from assistant.training.models import ModelVersion, TrainingRun  # noqa: E402
from assistant.training.services import (  # noqa: E402
    run_execute,
    run_submit,
    version_activate,
    version_prepare,
    version_rollback,
)

COLLECTIONS = {"ask_cfpb": "ask-cfpb", "financebench": "financebench"}
NARROWED = {"ask_cfpb": False, "financebench": True}
TARGETS = {"ask_cfpb": ("ndcg@10", 0.06), "financebench": ("recall@10", 0.05)}
METRICS = ("ndcg@10", "recall@10", "mrr@10")
MODES = ("hybrid", "vector")


def loaded(dataset: str) -> float | None:
    name = COLLECTIONS[dataset]
    if Collection.objects.filter(name=name, documents__status=DocumentStatus.READY).exists():
        return None
    started = time.perf_counter()
    call_command("load_dataset", dataset, verbosity=0)
    return round(time.perf_counter() - started, 1)


def split_queries(dataset: str, split: str) -> list[Query]:
    return [Query(str(row["query"]), frozenset(row["relevant"])) for row in eval_split(dataset, split)]


def searched(dataset: str, queries: list[Query], mode: str) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each question's metrics through the search service, their means, and the search's latency."""
    per_query: dict[str, list[float]] = {name: [] for name in METRICS}
    latency = []
    for query in queries:
        request = SearchRequest(query=query.text, k=40, collections=[COLLECTIONS[dataset]], mode=mode)  # type: ignore[arg-type]
        started = time.perf_counter()
        if NARROWED[dataset]:
            results = narrowed_search(reader=Reader.system(), request=request)
        else:
            results = knowledge_search(reader=Reader.system(), request=request).results
        latency.append(time.perf_counter() - started)
        measured = scores(ranked_units(results, pages=uses_pages(query.relevant)), query.relevant, 10)
        for name in METRICS:
            per_query[name].append(measured[name])
    means = {name: round(float(np.mean(values)), 4) for name, values in per_query.items()}
    return per_query, {**means, "search_ms": summary_ms(latency)}


def quality(dataset: str, queries: list[Query]) -> tuple[dict[str, dict[str, list[float]]], dict[str, Any]]:
    per_mode, out = {}, {}
    for mode in MODES:
        per_mode[mode], out[mode] = searched(dataset, queries, mode)
        print(f"    {mode}: {out[mode]}", flush=True)
    return per_mode, out


def tuned(prefix: str, dataset: str, epochs: int) -> ModelVersion:
    """A version of the dataset's `prefix` task (embedding or reranker) trained on its validation
    half, through the platform."""
    rows = eval_split(dataset, "validation")
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    run = run_submit(
        task=prefix + COLLECTIONS[dataset],
        options={"epochs": epochs},
        data_file=Path(handle.name),
        dispatch=False,
    )
    run = run_execute(run.pk)
    Path(handle.name).unlink()
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise SystemExit(f"{dataset}: run {run.pk} {run.status}: {run.error}")
    return run.model_version


def activated(version: ModelVersion) -> float:
    started = time.perf_counter()
    version_activate(version, prepare_now=True)
    return round(time.perf_counter() - started, 1)


def rolled_back(task: str) -> float:
    started = time.perf_counter()
    retired = version_rollback(task)
    version_prepare(retired.pk)
    return round(time.perf_counter() - started, 1)


def differences(
    after: dict[str, dict[str, list[float]]], before: dict[str, dict[str, list[float]]]
) -> dict[str, Any]:
    """Per search mode and metric, the mean of the questions' paired differences and its interval."""
    out: dict[str, Any] = {}
    for mode in MODES:
        for name in METRICS:
            paired = [a - b for a, b in zip(after[mode][name], before[mode][name], strict=True)]
            out.setdefault(mode, {})[name] = {
                "mean": round(float(np.mean(paired)), 4),
                "95ci": bootstrap_interval(paired),
            }
    return out


def fit_summary(version: ModelVersion) -> dict[str, Any]:
    """A version's fit: its seconds and device, its validation scores beside those of what served
    then, its data sizes and configuration."""
    return {
        "seconds": version.fit_seconds,
        "device": version.fit_device,
        "validation": {
            "tuned": {name: version.metrics.get(name) for name in METRICS},
            "serving": {name: version.metrics["active"].get(name) for name in METRICS},
        },
        "sizes": version.metrics["dataset_sizes"],
        "config": {k: version.config[k] for k in ("method", "epochs", "batch_size", "learning_rate")},
    }


def reranked(
    dataset: str, queries: list[Query], epochs: int, depth: int, runs: dict[str, dict[str, list[float]]]
) -> dict[str, Any]:
    """A reranker trained behind the active retriever and activated at `depth` whatever it scored:
    its fit, and the search's figures against each of `runs` (stock, tuned). Rolled back after."""
    collection = Collection.objects.get(name=COLLECTIONS[dataset])
    depth_before = collection.rerank_depth
    Collection.objects.filter(pk=collection.pk).update(rerank_depth=depth)
    try:
        version = tuned(reranking.PREFIX, dataset, epochs)
        out: dict[str, Any] = {"depth": depth, "fit": fit_summary(version)}
        print(f"    reranker fit: {out['fit']}", flush=True)
        activated(version)
        reranked_runs, out["quality"] = quality(dataset, queries)
        for name, before in runs.items():
            out[f"minus_{name}"] = differences(reranked_runs, before)
        rolled_back(version.task)
    finally:
        Collection.objects.filter(pk=collection.pk).update(rerank_depth=depth_before)
    return out


def forgetting(model: str, dataset: str) -> dict[str, Any]:
    """A model's exact vector search on a dataset's test questions, beside the stock model's
    (the collection's stored vectors)."""
    collection = Collection.objects.get(name=COLLECTIONS[dataset])
    passages = Passages.of([collection])
    queries = split_queries(dataset, "test")
    stock = encoder(collection.embedding_model)
    before = retrieval_metrics(queries, stock.embed([q.text for q in queries]), passages.vectors, passages)
    other = Embedder(model)
    started = time.perf_counter()
    vectors = other.embed(passages.texts)
    embed_s = round(time.perf_counter() - started, 1)
    after = retrieval_metrics(queries, other.embed([q.text for q in queries]), vectors, passages)
    return {"stock": before, "tuned_elsewhere": after, "passages": len(passages.ids), "embed_s": embed_s}


def rerank_latency(dataset: str, depths: list[int]) -> dict[str, Any]:
    """The search as an advisor's question gets it, followed by a cross-encoder scoring its first N
    results (the cost of a reranker stage of depth N; what it scores does not change the cost):
    p50/p95 in ms over the test questions, per N."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from assistant.core.hf import BUNDLED_MODEL, model_path
    from assistant.training.crossencoder import CrossEncoder

    with tempfile.TemporaryDirectory() as folder:
        AutoModelForSequenceClassification.from_pretrained(
            model_path(BUNDLED_MODEL), num_labels=1
        ).save_pretrained(folder)
        AutoTokenizer.from_pretrained(model_path(BUNDLED_MODEL)).save_pretrained(folder)
        scorer = CrossEncoder(Path(folder), max_tokens=reranking.DEFAULTS["max_tokens"])
    queries = split_queries(dataset, "test")
    out: dict[str, Any] = {}
    for depth in depths:
        latency = []
        for query in queries:
            request = SearchRequest(query=query.text, k=max(depth, 10), collections=[COLLECTIONS[dataset]])
            started = time.perf_counter()
            results = narrowed_search(reader=Reader.system(), request=request)
            scorer.scores(query.text, [f"{r.heading}\n{r.text}" for r in results[:depth]])
            latency.append(time.perf_counter() - started)
        out[str(depth)] = summary_ms(latency)
        print(f"    depth {depth}: {out[str(depth)]}", flush=True)
    return out


def latency(dataset: str, depths: list[int]) -> dict[str, Any]:
    print(f"{dataset}: reranking latency", flush=True)
    return {"rerank_latency_ms": rerank_latency(dataset, depths), "rerank_latency_processor": processor()}


def measured(args: argparse.Namespace) -> dict[str, Any]:
    """Stock, tuned and reranked quality, costs and forgetting, per dataset."""
    results: dict[str, Any] = {}
    loads = {dataset: loaded(dataset) for dataset in COLLECTIONS}
    questions = {dataset: split_queries(dataset, "test") for dataset in COLLECTIONS}
    stock_runs: dict[str, Any] = {}
    for dataset in COLLECTIONS:
        print(f"{dataset}: stock, {len(questions[dataset])} test questions", flush=True)
        stock_runs[dataset], results.setdefault(dataset, {})["stock"] = quality(dataset, questions[dataset])
        results[dataset]["load_s"] = loads[dataset]
    versions = {}
    for dataset in args.datasets:
        print(f"{dataset}: tuning", flush=True)
        version = versions[dataset] = tuned(tuning.PREFIX, dataset, args.epochs)
        section = results[dataset]
        section["fit"] = fit_summary(version)
        print(f"    fit: {section['fit']}", flush=True)
        section["reembed_s"] = activated(version)
        print(f"    re-embedded in {section['reembed_s']} s", flush=True)
        tuned_runs, section["tuned"] = quality(dataset, questions[dataset])
        section["tuned_minus_stock"] = differences(tuned_runs, stock_runs[dataset])
        metric, gain = TARGETS[dataset]
        section["target"] = {
            "metric": f"hybrid {metric}",
            "gain_wanted": gain,
            "gain": section["tuned_minus_stock"]["hybrid"][metric]["mean"],
        }
        for other in COLLECTIONS:
            if other != dataset:
                _, section.setdefault("other_collection_while_active", {})[other] = quality(
                    other, questions[other]
                )
        if args.reranker_epochs:
            print(f"{dataset}: reranker behind the tuned retriever", flush=True)
            section["reranked"] = reranked(
                dataset,
                questions[dataset],
                args.reranker_epochs,
                args.rerank_depth,
                {"stock": stock_runs[dataset], "tuned": tuned_runs},
            )
        section["rollback_s"] = rolled_back(version.task)
    if not args.skip_forgetting:
        for dataset, version in versions.items():
            for other in COLLECTIONS:
                if other != dataset:
                    print(f"forgetting: {dataset}'s model on {other}", flush=True)
                    results[dataset].setdefault("forgetting", {})[other] = forgetting(
                        tuned_model(version), other
                    )
    if args.rerank_depths:
        for dataset in COLLECTIONS:
            results[dataset].update(latency(dataset, args.rerank_depths))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", nargs="+", choices=list(COLLECTIONS), default=list(COLLECTIONS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip-forgetting", action="store_true")
    parser.add_argument(
        "--reranker-epochs", type=int, default=reranking.DEFAULTS["epochs"], help="0: no reranker"
    )
    parser.add_argument("--rerank-depth", type=int, default=RERANK_DEPTH, help="the reranker's depth")
    parser.add_argument("--rerank-depths", nargs="*", type=int, default=[0, 5, 10, 20])
    parser.add_argument("--latency-only", action="store_true", help="measure the reranking latency alone")
    args = parser.parse_args()
    if args.latency_only:
        results = {}
        for dataset in args.datasets:
            loaded(dataset)
            results[dataset] = latency(dataset, args.rerank_depths)
    else:
        results = measured(args)
    path = RESULTS / "tuned_retrieval.json"
    previous = json.loads(path.read_text())["results"] if path.is_file() else {}
    write_result(
        "tuned_retrieval",
        {dataset: {**previous.get(dataset, {}), **section} for dataset, section in results.items()},
    )


if __name__ == "__main__":
    main()
