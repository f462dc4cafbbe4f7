import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.errors import ApplicationError
from assistant.knowledge.evaluation import evaluate, queries_read
from assistant.knowledge.facets import narrowed_search
from assistant.knowledge.models import Collection, Document
from assistant.knowledge.search import Fusion, Mode, Reader, SearchRequest, SearchResult, knowledge_search

# Chunks fetched per query: several chunks of one document count once.
CHUNKS_PER_UNIT = 4


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
        parser.add_argument(
            "--narrow",
            action="store_true",
            help="narrow each question to the company and year it names, as an advisor's question is",
        )
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
        narrow: bool,
        json_out: Path | None,
        **options: Any,
    ) -> None:
        if not queries.is_file():
            raise CommandError(f"{queries}: no such file")
        if not Collection.objects.filter(name=collection).exists():
            raise CommandError(f"no collection named {collection!r}")
        documents = Document.objects.filter(collection__name=collection).values_list("external_id", flat=True)
        try:
            labelled = queries_read(queries, documents=set(documents))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

        def search(text: str) -> list[SearchResult]:
            request = SearchRequest(
                query=text,
                k=min(k * CHUNKS_PER_UNIT, 100),
                collections=[collection],
                mode=mode,
                lexical_weight=lexical_weight,
                fusion=fusion,
                rrf_k=rrf_k,
            )
            if narrow:
                return narrowed_search(reader=Reader.system(), request=request)
            return knowledge_search(reader=Reader.system(), request=request).results

        try:
            metrics = evaluate(labelled, search, k=k)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        report = {"collection": collection, "mode": mode, "narrow": narrow, **metrics}
        for name, value in report.items():
            self.stdout.write(f"{name:>12}  {value}")
        if json_out is not None:
            json_out.write_text(json.dumps(report, indent=2) + "\n")
