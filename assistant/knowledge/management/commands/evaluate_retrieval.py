import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.evaluation import Query, evaluate
from assistant.knowledge.search import Fusion, Mode, Reader, SearchRequest, SearchResult, knowledge_search

# Chunks fetched per query: several chunks of one document count once.
CHUNKS_PER_UNIT = 4


def read_queries(path: Path) -> list[Query]:
    queries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text, relevant = row["query"], row["relevant"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CommandError(
                f"{path}, line {number}: expected {{'query': ..., 'relevant': [...]}} ({exc})"
            ) from None
        if not isinstance(text, str) or not text.strip() or not relevant or not isinstance(relevant, list):
            raise CommandError(f"{path}, line {number}: needs a query and a non-empty list of relevant ids")
        queries.append(Query(text, frozenset(str(label) for label in relevant)))
    if not queries:
        raise CommandError(f"{path}: no queries")
    return queries


class Command(BaseCommand):
    help = "Recall@1/5/10, MRR@10 and nDCG@10 of the search service on labelled queries (JSONL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", required=True)
        parser.add_argument("--queries", required=True, type=Path, help='JSONL of {"query", "relevant"}')
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--mode", choices=("hybrid", "vector", "lexical"), default="hybrid")
        parser.add_argument("--lexical-weight", type=float, help="override FINASSIST_SEARCH_LEXICAL_WEIGHT")
        parser.add_argument("--fusion", choices=("weighted", "rrf"), help="override FINASSIST_SEARCH_FUSION")
        parser.add_argument("--rrf-k", type=int, help="override FINASSIST_SEARCH_RRF_K")
        parser.add_argument("--json", dest="json_out", type=Path, help="also write the metrics to this file")

    def handle(
        self,
        *args: Any,
        collection: str,
        queries: Path,
        k: int,
        mode: Mode,
        lexical_weight: float | None,
        fusion: Fusion | None,
        rrf_k: int | None,
        json_out: Path | None,
        **options: Any,
    ) -> None:
        if not queries.is_file():
            raise CommandError(f"{queries}: no such file")
        labelled = read_queries(queries)

        def search(text: str) -> list[SearchResult]:
            return knowledge_search(
                reader=Reader.system(),
                request=SearchRequest(
                    query=text,
                    k=min(k * CHUNKS_PER_UNIT, 100),
                    collections=[collection],
                    mode=mode,
                    lexical_weight=lexical_weight,
                    fusion=fusion,
                    rrf_k=rrf_k,
                ),
            ).results

        try:
            metrics = evaluate(labelled, search, k=k)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        report = {"collection": collection, "mode": mode, **metrics}
        for name, value in report.items():
            self.stdout.write(f"{name:>12}  {value}")
        if json_out is not None:
            json_out.write_text(json.dumps(report, indent=2) + "\n")
