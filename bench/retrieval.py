"""Retrieval: search latency and recall at scale, ingestion throughput, answer quality.

    .venv/bin/python bench/retrieval.py [--scales 100000 1000000] [--queries 200]
                                        [--skip-scale] [--skip-ingestion] [--skip-quality]
                                        [--ef-sweep 40 100 200 300]

Runs in its own database (finassist_bench) on the configured server; generated data is
kept between runs and extended when a larger scale is asked for.

- Scale: one collection of N chunks with clustered synthetic 384-d vectors (clusters, so
  that nearest neighbours are meaningful) and Zipf-distributed words from the model's
  vocabulary (so full-text search meets common and rare words as in real text); searched
  unfiltered, and filtered by document metadata to a tenth of the chunks. The search
  service is timed with the query vector given: query embedding excluded, Python included.
  Recall@10 of the vector side is against exact search (numpy) over the same chunks.
- Collections spanned: ten collections of 10,000 chunks, searched one, three and ten at a
  time. The chunk table has a partition, and an HNSW graph, per collection: a search costs
  about one graph walk per collection it spans.
- Ingestion: a real corpus (FinCEN advisories from the datasets folder, else the demo
  knowledge) through parse-chunk-embed-store, in chunks/s and 256-token chunks/s.
- Quality: nDCG@10 on the Ask CFPB questions: the weight of full text (and RRF's k) chosen
  on the validation half for each fusion, then vector alone against hybrid on the test
  half, with a bootstrap interval of the difference.
- Freshness: seconds from submitting a document to finding it by search, through the real
  path (commit, broker, an ingest worker, index), on a broker of its own.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from common import bootstrap_interval, django_setup, summary_ms, use_database, write_result

from tests.support.processes import RedisServer

if TYPE_CHECKING:
    import torch
    from transformers import PretrainedConfig

# A broker of the benchmark's own: its ingest worker must not meet anyone else's tasks.
BROKER = RedisServer()
os.environ["REDIS_URL"] = BROKER.url
use_database("finassist_bench")
django_setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import override_settings  # noqa: E402

from assistant.core.hf import BUNDLED_MODEL, model_path  # noqa: E402
from assistant.knowledge.embedding import embedder  # noqa: E402
from assistant.knowledge.models import Chunk, Collection, Document  # noqa: E402
from assistant.knowledge.search import Reader, SearchRequest, ef_search, ef_widening, knowledge_search  # noqa: E402
from assistant.knowledge.services.lexicon import lexicon_refresh  # noqa: E402

COLLECTIONS = 10
CHUNKS_PER_DOCUMENT = 1000
DIMENSIONS = 384
CLUSTERS = 2000
SEED = 20261121
# The inputs of the precision and ceiling measurements: a chunk of the issue's size, in tokens.
INPUT_TOKENS = 256


def vocabulary() -> np.ndarray:
    words = [
        line.strip()
        for line in (model_path(BUNDLED_MODEL) / "vocab.txt").read_text().splitlines()
        if line.strip().isalpha() and len(line.strip()) >= 3
    ]
    np.random.default_rng(SEED).shuffle(words)
    return np.array(words)


def zipf_weights(size: int) -> np.ndarray:
    weights = 1.0 / np.power(np.arange(size) + 2.7, 1.1)
    return weights / weights.sum()


def centres() -> np.ndarray:
    return np.random.default_rng(SEED).normal(size=(CLUSTERS, DIMENSIONS)).astype(np.float32)


def vectors(count: int, rng_seed: int) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    points = centres()[rng.integers(0, CLUSTERS, size=count)] + 0.35 * rng.normal(size=(count, DIMENSIONS))
    points = points.astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def texts(
    count: int, words: np.ndarray, weights: np.ndarray, rng_seed: int, length: tuple[int, int]
) -> list[str]:
    rng = np.random.default_rng(rng_seed)
    sizes = rng.integers(length[0], length[1], size=count)
    picks = rng.choice(len(words), size=int(sizes.sum()), p=weights)
    out, at = [], 0
    for size in sizes:
        out.append(" ".join(words[picks[at : at + size]]))
        at += size
    return out


STEP = 20_000


def batch_vectors(seed: int, start: int, count: int) -> np.ndarray:
    return vectors(count, seed + start)


def grow(name: str, target: int, seed: int) -> dict[str, float]:
    """Load chunks into collection `name` until it holds `target`, indexing its partition anew.

    The partition is detached, its vector and full-text indexes dropped, the rows copied in,
    the indexes built in bulk and the partition attached again: far faster than growing an
    HNSW graph row by row, and the other collections' indexes stay as they are.
    """
    from assistant.db.vectors import vector_connection
    from assistant.knowledge.partitions import partition_name

    collection, _ = Collection.objects.get_or_create(name=name, defaults={"embedding_model": BUNDLED_MODEL})
    have = Chunk.objects.filter(collection=collection).count()
    if have >= target:
        return {}
    partition = partition_name(collection.pk)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE knowledge_chunk DETACH PARTITION {partition}")
        cursor.execute(f"DROP INDEX IF EXISTS {partition}_embedding_idx")
        cursor.execute(f"DROP INDEX IF EXISTS {partition}_search_vector_idx")
    words = vocabulary()
    weights = zipf_weights(len(words))
    raw = vector_connection()
    for start in range(have, target, STEP):
        count = min(STEP, target - start)
        documents = Document.objects.bulk_create(
            Document(
                collection=collection,
                external_id=f"{name}-{number}",
                title=f"Synthetic document {number}",
                checksum="synthetic",
                status="ready",
                chunks_total=CHUNKS_PER_DOCUMENT,
                chunks_done=CHUNKS_PER_DOCUMENT,
                metadata={"tier": number % 10},
            )
            for number in range(start // CHUNKS_PER_DOCUMENT, (start + count) // CHUNKS_PER_DOCUMENT)
        )
        batch_texts = texts(count, words, weights, seed + 7 + start, (100, 180))
        batch = batch_vectors(seed, start, count)
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {partition} (document_id, collection_id, position, heading, text, token_count, "
                "embedding, embedding_model) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "int8", "int4", "varchar", "text", "int4", "vector", "varchar"])
            for offset in range(count):
                document = documents[offset // CHUNKS_PER_DOCUMENT]
                text = batch_texts[offset]
                copy.write_row(
                    (document.pk, collection.pk, offset % CHUNKS_PER_DOCUMENT, document.title, text,
                     len(text.split()), batch[offset], BUNDLED_MODEL)
                )  # fmt: skip
        print(f"  {name}: {start + count:,} / {target:,} chunks", flush=True)
    timings["load_s"] = round(time.perf_counter() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("SET max_parallel_maintenance_workers = 2")
        # A million 384-d vectors make a graph of about 2 GB; a graph that outgrows this
        # memory is finished on disk, several times slower.
        cursor.execute("SET maintenance_work_mem = '4GB'")
        started = time.perf_counter()
        cursor.execute(
            f"CREATE INDEX {partition}_embedding_idx ON {partition} "
            "USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 128)"
        )
        timings["hnsw_build_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        cursor.execute(f"CREATE INDEX {partition}_search_vector_idx ON {partition} USING gin (search_vector)")
        timings["gin_build_s"] = round(time.perf_counter() - started, 1)
        cursor.execute(
            f"ALTER TABLE knowledge_chunk ATTACH PARTITION {partition} FOR VALUES IN ({collection.pk})"
        )
        cursor.execute(f"VACUUM ANALYZE {partition}")
    started = time.perf_counter()
    lexicon_refresh()
    timings["lexicon_refresh_s"] = round(time.perf_counter() - started, 1)
    return timings


def stored(name: str, target: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Chunk ids, document tiers and vectors of a synthetic collection, in load order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, (d.metadata->>'tier')::int FROM knowledge_chunk c "
            "JOIN knowledge_document d ON d.id = c.document_id "
            "JOIN knowledge_collection k ON k.id = c.collection_id "
            "WHERE k.name = %s ORDER BY c.id LIMIT %s",
            [name, target],
        )
        rows = cursor.fetchall()
    vecs = np.concatenate(
        [batch_vectors(seed, start, min(STEP, target - start)) for start in range(0, target, STEP)]
    )
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows]), vecs


def measure(
    collections: list[str],
    ids: np.ndarray,
    vecs: np.ndarray,
    queries: int,
    metadata: dict[str, int] | None,
    modes: tuple[str, ...] = ("vector", "hybrid"),
) -> dict[str, object]:
    words = vocabulary()
    query_vectors = vectors(queries, SEED + 99)
    query_texts = texts(queries, words, zipf_weights(len(words)), SEED + 98, (6, 12))
    latency: dict[str, list[float]] = {mode: [] for mode in modes}
    found: list[set[int]] = []
    for mode in modes:
        for repeat in range(2):  # the first pass warms the caches
            for number in range(queries):
                vector = query_vectors[number]
                started = time.perf_counter()
                response = knowledge_search(
                    reader=Reader.system(),
                    request=SearchRequest(
                        query=query_texts[number], k=10, collections=collections, metadata=metadata, mode=mode
                    ),
                    embed_query=lambda model, text, vector=vector: vector,
                )
                elapsed = time.perf_counter() - started
                if repeat == 1:
                    latency[mode].append(elapsed)
                    if mode == "vector":
                        found.append({result.chunk_id for result in response.results})
    # Exact answers after the timing, so that numpy's work does not disturb it.
    recalls = [
        len(set(ids[np.argsort(-(vecs @ query_vectors[number]))[:10]]) & found[number]) / 10
        for number in range(queries)
    ]
    return {
        "recall@10_vector_vs_exact": round(float(np.mean(recalls)), 4),
        **{f"{mode}_latency": summary_ms(samples) for mode, samples in latency.items()},
    }


def ef_sweep(target: int, efs: list[int], queries: int) -> dict[str, object]:
    """Vector recall and latency of one scale's collection at each ef_search (unfiltered).

    Each value is the ef_search walked here: FINASSIST_SEARCH_EF is set so that the search
    at this scale (whose ef_search grows with the collection) walks with it."""
    name = f"bench-scale-{target}"
    ids, _, vecs = stored(name, target, SEED)
    results: dict[str, object] = {}
    for ef in efs:
        with override_settings(SEARCH_EF=ef / ef_widening(target)):
            assert ef_search(target) == ef
            results[str(ef)] = measure([name], ids, vecs, queries, None, modes=("vector",))
        print(f"  {target:,} ef_search {ef}: {results[str(ef)]}", flush=True)
    return results


def scale(target: int, queries: int) -> dict[str, object]:
    """One collection of `target` chunks: unfiltered, and filtered to a tenth of its documents."""
    print(f"scale {target:,}", flush=True)
    name = f"bench-scale-{target}"
    timings = grow(name, target, SEED)
    ids, tiers, vecs = stored(name, target, SEED)
    results: dict[str, object] = {"chunks": target, "ef_search": ef_search(target), **timings}
    results["unfiltered"] = measure([name], ids, vecs, queries, None)
    print(f"  unfiltered: {results['unfiltered']}", flush=True)
    tenth = tiers == 3
    results["metadata_filter_10_percent"] = measure([name], ids[tenth], vecs[tenth], queries, {"tier": 3})
    print(f"  filtered: {results['metadata_filter_10_percent']}", flush=True)
    return results


def spanning(queries: int) -> dict[str, object]:
    """Ten collections of 10,000 chunks: the cost of a search grows with the collections it spans."""
    names = [f"bench-multi-{number}" for number in range(COLLECTIONS)]
    for number, name in enumerate(names):
        grow(name, 10_000, SEED + 1000 * (number + 1))
    parts = [stored(name, 10_000, SEED + 1000 * (number + 1)) for number, name in enumerate(names)]
    results: dict[str, object] = {}
    for span in (1, 3, 10):
        ids = np.concatenate([part[0] for part in parts[:span]])
        vecs = np.concatenate([part[2] for part in parts[:span]])
        results[f"{span}_collections"] = measure(names[:span], ids, vecs, queries, None)
        print(f"  spanning {span}: {results[f'{span}_collections']}", flush=True)
    return results


def ingestion() -> dict[str, object]:
    from django.conf import settings

    from assistant.knowledge.services.indexing import documents_index
    from assistant.knowledge.services.submission import collection_get_or_create, files_submit

    Collection.objects.filter(name="ingest-bench").delete()
    collection = collection_get_or_create(name="ingest-bench")
    fincen = settings.DATASETS_DIR / "fincen_advisories"
    if (fincen / "pages.jsonl.gz").is_file():
        from assistant.knowledge.datasets import fincen_advisories
        from assistant.knowledge.services.submission import document_submit

        corpus = "fincen_advisories"
        submitted = [
            document_submit(collection=collection, parsed=parsed, enqueue=False)
            for parsed in fincen_advisories(fincen)
        ]
    else:
        corpus = "demo knowledge (English)"
        demo = Path(__file__).resolve().parent.parent / "assistant" / "knowledge" / "demo_data"
        files = [
            (path.name, path.read_bytes())
            for path in sorted(demo.rglob("*"))
            if path.suffix in {".md", ".html", ".csv"} and "zh" not in path.relative_to(demo).parts
        ]
        submitted = files_submit(collection=collection, files=files, enqueue=False).submitted
    embedder(collection.embedding_model)  # load the model outside the timing
    started = time.perf_counter()
    report = documents_index([s.document.pk for s in submitted])
    elapsed = time.perf_counter() - started
    tokens = sum(Chunk.objects.filter(collection=collection).values_list("token_count", flat=True))
    model = embedder(collection.embedding_model)
    return {
        "corpus": corpus,
        "documents": report.indexed,
        "chunks": report.chunks,
        "mean_tokens_per_chunk": round(tokens / report.chunks, 1),
        "seconds": round(elapsed, 1),
        "chunks_per_s": round(report.chunks / elapsed, 1),
        "tokens_per_s": round(tokens / elapsed),
        "chunks_of_256_tokens_per_s": round(tokens / 254 / elapsed, 1),
        "embedding_dtype": str(model.dtype).split(".")[-1],
        "pipeline": "parse, chunk, embed (batches across documents), store with HNSW and GIN updates",
    }


def embedding_precision(count: int = 96) -> dict[str, object]:
    """Each precision the embedder could run in here: throughput on 256-token inputs and,
    where the Ask CFPB questions are at hand, exact-search nDCG@10 with answers and questions
    embedded in that precision, beside the cosine of its vectors to float32's. int8 is not
    offered: it lost 0.02 of nDCG@10 (docs/retrieval.md)."""
    from django.conf import settings

    from assistant.core.hf import int8_linear, native_bfloat16
    from assistant.knowledge.datasets import eval_split
    from assistant.knowledge.embedding import Embedder
    from assistant.knowledge.evaluation import scores

    words = vocabulary()
    inputs = texts(count, words, zipf_weights(len(words)), SEED + 5, (400, 401))  # truncated to 256 tokens
    # int8: dynamic quantization of the linear layers, measured here but not offered (below).
    precisions = ["float32", "int8"] + (["bfloat16"] if native_bfloat16() else [])
    have_questions = (settings.DATASETS_DIR / "ask_cfpb" / "kb_answers.jsonl").is_file()
    if have_questions:
        call_command("load_dataset", "ask_cfpb", verbosity=0)
        chunks = list(
            Chunk.objects.filter(collection__name="ask-cfpb").values_list("text", "document__external_id")
        )
        questions = eval_split("ask_cfpb")
    out: dict[str, object] = {"inputs": count, "tokens_per_input": INPUT_TOKENS}
    reference = None
    for precision in precisions:
        with override_settings(TORCH_DTYPE="bfloat16" if precision == "bfloat16" else "float32"):
            model = Embedder(BUNDLED_MODEL)
        if precision == "int8":
            model._model = int8_linear(model._model)
        model.embed(inputs[:32])
        started = time.perf_counter()
        model.embed(inputs)
        result: dict[str, object] = {
            "chunks_per_s": round(count / (time.perf_counter() - started), 1),
            **linear_ceiling(model._model.config, model.dtype, int8=precision == "int8"),
        }
        if have_questions:
            passages = model.embed([text for text, _ in chunks])
            asked = model.embed([row["query"] for row in questions])
            ndcg = []
            for row, vector in zip(questions, asked, strict=True):
                ranked: dict[str, None] = {}
                for index in np.argsort(-(passages @ vector))[:40]:
                    ranked.setdefault(chunks[index][1], None)
                ndcg.append(scores(list(ranked), frozenset(row["relevant"]), 10)["ndcg@10"])
            result["ask_cfpb_exact_ndcg@10"] = round(float(np.mean(ndcg)), 4)
            if reference is None:
                reference = passages
            cosines = (passages * reference).sum(axis=1)
            result["cosine_to_float32_min"] = round(float(cosines.min()), 5)
            result["cosine_to_float32_mean"] = round(float(cosines.mean()), 5)
        out[precision] = result
    return out


def linear_ceiling(config: PretrainedConfig, dtype: torch.dtype, *, int8: bool) -> dict[str, float]:
    """The processor's rate for the model's largest matrix product (a batch of the configured
    size through the first feed-forward layer), and the chunks a second that the model's
    linear layers alone would allow at that rate: an upper bound on embedding throughput, as
    attention, GELU and layer norms come on top."""
    import torch
    from django.conf import settings

    from assistant.core.hf import int8_linear

    hidden, inner = config.hidden_size, config.intermediate_size
    layer = torch.nn.Linear(hidden, inner).to(dtype)
    if int8:
        layer = int8_linear(torch.nn.Sequential(layer))
    inputs = torch.randn(settings.EMBEDDING_BATCH_SIZE * INPUT_TOKENS, hidden).to(dtype)
    repeats = 20
    with torch.inference_mode():
        for _ in range(3):
            layer(inputs)
        started = time.perf_counter()
        for _ in range(repeats):
            layer(inputs)
    rate = 2 * inputs.shape[0] * hidden * inner * repeats / (time.perf_counter() - started)
    per_chunk = config.num_hidden_layers * INPUT_TOKENS * 2 * (4 * hidden * hidden + 2 * hidden * inner)
    return {
        "linear_gflop_per_s": round(rate / 1e9, 1),
        "linear_layers_ceiling_chunks_per_s": round(rate / per_chunk, 1),
    }


def query_embedding(queries: int) -> dict[str, float]:
    model = embedder(BUNDLED_MODEL)
    samples = []
    for number in range(queries + 10):
        started = time.perf_counter()
        model.embed([f"how do I dispute a charge on my credit card statement number {number}?"])
        if number >= 10:
            samples.append(time.perf_counter() - started)
    return summary_ms(samples)


def quality() -> dict[str, object]:
    """nDCG@10 on Ask CFPB: each fusion's weight (and RRF's k) chosen on the validation half,
    reported on the test half beside vector and full-text search alone."""
    from django.conf import settings

    from assistant.knowledge.datasets import eval_split
    from assistant.knowledge.evaluation import Query, ranked_units, scores

    if not (settings.DATASETS_DIR / "ask_cfpb" / "kb_answers.jsonl").is_file():
        return {"skipped": f"no ask_cfpb under {settings.DATASETS_DIR}"}
    call_command("load_dataset", "ask_cfpb", verbosity=0)
    splits = {
        split: [Query(row["query"], frozenset(row["relevant"])) for row in eval_split("ask_cfpb", split)]
        for split in ("validation", "test")
    }
    model = embedder(BUNDLED_MODEL)
    # As the search receives them: whitespace runs made single spaces.
    texts_ = [" ".join(query.text.split()) for queries in splits.values() for query in queries]
    vectors_by_text = dict(zip(texts_, model.embed(texts_), strict=True))

    def ndcg(split: str, **options: object) -> list[float]:
        out = []
        for query in splits[split]:
            results = knowledge_search(
                reader=Reader.system(),
                # 40 chunks: enough for ten distinct answers
                request=SearchRequest(query=query.text, k=40, collections=["ask-cfpb"], **options),
                embed_query=lambda model, text: vectors_by_text[text],
            ).results
            out.append(scores(ranked_units(results, pages=False), query.relevant, 10)["ndcg@10"])
        return out

    grids: dict[str, list[dict[str, object]]] = {
        "weighted": [{"lexical_weight": w} for w in (0.05, 0.1, 0.15, 0.2, 0.3)],
        "rrf": [{"lexical_weight": w, "rrf_k": k} for w in (0.1, 0.2, 0.5, 1.0) for k in (2, 10, 30, 60)],
    }
    chosen: dict[str, dict[str, object]] = {}
    for fusion, grid in grids.items():
        tried = [(float(np.mean(ndcg("validation", mode="hybrid", fusion=fusion, **p))), p) for p in grid]
        best, params = max(tried, key=lambda pair: pair[0])
        chosen[fusion] = {**params, "validation_ndcg@10": round(best, 4)}
        print(f"  {fusion}: chosen {chosen[fusion]}", flush=True)
    out: dict[str, object] = {"chosen_on_validation": chosen}
    for split in ("validation", "test"):
        vector = ndcg(split, mode="vector")
        row: dict[str, object] = {
            "queries": len(vector),
            "ndcg@10_vector": round(float(np.mean(vector)), 4),
            "ndcg@10_lexical": round(float(np.mean(ndcg(split, mode="lexical"))), 4),
        }
        for fusion, params in chosen.items():
            options = {key: value for key, value in params.items() if key != "validation_ndcg@10"}
            hybrid = ndcg(split, mode="hybrid", fusion=fusion, **options)
            differences = [h - v for h, v in zip(hybrid, vector, strict=True)]
            row[f"hybrid_{fusion}"] = {
                "ndcg@10": round(float(np.mean(hybrid)), 4),
                "minus_vector": round(float(np.mean(differences)), 4),
                "minus_vector_95ci": bootstrap_interval(differences),
                "better_on": sum(d > 0 for d in differences),
                "worse_on": sum(d < 0 for d in differences),
            }
        out[split] = row
        print(f"  quality {split}: {row}", flush=True)
    out["defaults"] = {
        "fusion": settings.SEARCH_FUSION,
        "lexical_weight": settings.SEARCH_LEXICAL_WEIGHT,
        "rrf_k": settings.SEARCH_RRF_K,
    }
    return out


def freshness(documents: int = 6) -> dict[str, object]:
    from assistant.knowledge.services.submission import collection_get_or_create, files_submit
    from tests.support.processes import Worker, project_env

    Collection.objects.filter(name="fresh-bench").delete()
    collection = collection_get_or_create(name="fresh-bench")
    seconds = []
    with tempfile.TemporaryDirectory() as logs:
        worker = Worker("ingest", Path(logs), project_env())
        try:
            for number in range(documents):
                marker = uuid.uuid4().hex[:10]
                note = f"# Branch notice {number}\n\nThe branch coded {marker} moves on Monday."
                name = f"notice-{number}.md"
                started = time.perf_counter()
                files_submit(collection=collection, files=[(name, note.encode())])
                # Until this document is found, not merely an earlier notice.
                while name not in {
                    result.external_id
                    for result in knowledge_search(
                        reader=Reader.system(),
                        request=SearchRequest(query=marker, collections=["fresh-bench"], mode="lexical"),
                    ).results
                }:
                    time.sleep(0.05)
                seconds.append(time.perf_counter() - started)
        finally:
            worker.stop()
    return {
        "first_document_s": round(seconds[0], 2),
        "first_document_includes": "the worker loading the embedding model",
        "later_documents_s": summary_ms(seconds[1:]) | {"unit": "ms"},
        "path": "files_submit -> commit -> Redis -> ingest worker -> chunk, embed, store -> search finds it",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-ingestion", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument("--skip-precision", action="store_true")
    parser.add_argument(
        "--ef-sweep", type=int, nargs="*", default=[], help="also measure these ef_search values"
    )
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    lexicon_refresh()  # for collections loaded by an earlier run, if their counts are missing
    results: dict[str, object] = {"query_embedding": query_embedding(100)}
    if not args.skip_precision:
        results["embedding_precision"] = embedding_precision()
        print(f"precision: {results['embedding_precision']}", flush=True)
    if not args.skip_freshness:
        results["freshness"] = freshness()
        print(f"freshness: {results['freshness']}", flush=True)
    if not args.skip_ingestion:
        results["ingestion"] = ingestion()
        print(f"ingestion: {results['ingestion']}", flush=True)
    if not args.skip_quality:
        results["quality_ask_cfpb"] = quality()
    if not args.skip_scale:
        results["collections_spanned_100k"] = spanning(args.queries)
        results["scale"] = [scale(target, args.queries) for target in sorted(args.scales)]
    if args.ef_sweep:
        results["ef_search_sweep"] = {
            str(target): ef_sweep(target, args.ef_sweep, args.queries) for target in sorted(args.scales)
        }
    results["targets"] = {
        "search_p95_ms": {"100k": 10, "1M": 15},
        "recall@10_vs_exact": 0.95,
        "ingestion_chunks_of_256_tokens_per_s": 100,
    }
    write_result("retrieval", results)
    BROKER.stop()


if __name__ == "__main__":
    main()
