import dataclasses
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.core.api import DomainDateField, TextField
from assistant.knowledge.search import MAX_K, Reader, SearchRequest, SearchResponse, knowledge_search


class ScorePartsSerializer(serializers.Serializer[Any]):
    vector_similarity = serializers.FloatField(allow_null=True, help_text="cosine similarity to the query")
    vector_rank = serializers.IntegerField(allow_null=True)
    lexical_score = serializers.FloatField(allow_null=True, help_text="BM25 score of the query words")
    lexical_rank = serializers.IntegerField(allow_null=True)
    fused = serializers.FloatField(
        help_text="similarity plus the weighted share of the best BM25 score (or, configured so, "
        "weighted reciprocal ranks)"
    )


class SearchResultSerializer(serializers.Serializer[Any]):
    chunk_id = serializers.IntegerField()
    collection = TextField()
    external_id = TextField()
    title = TextField()
    version = serializers.IntegerField()
    heading = TextField()
    page = serializers.IntegerField(allow_null=True, help_text="zero-based page of a paged source")
    text = TextField()
    score = serializers.FloatField()
    parts = ScorePartsSerializer()


class SearchApi(APIView):
    """Hybrid search over the collections the caller may read."""

    class InputSerializer(serializers.Serializer[Any]):
        query = TextField(max_length=2000, help_text="the question or keywords")
        k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=10)
        collections = serializers.ListField(
            child=serializers.SlugField(),
            required=False,
            allow_empty=False,
            help_text="names to search; all the caller may read when absent",
        )
        metadata = serializers.DictField(required=False, help_text="documents whose metadata contains this")
        as_of = DomainDateField(required=False, help_text="effective on this date (default: today)")
        mode = serializers.ChoiceField(choices=("hybrid", "vector", "lexical"), default="hybrid")

        def to_internal_value(self, data: Any) -> SearchRequest:
            return SearchRequest(**super().to_internal_value(data))

    class OutputSerializer(serializers.Serializer[Any]):
        results = SearchResultSerializer(many=True)
        collections = serializers.ListField(child=TextField())
        timings_ms = serializers.DictField(child=serializers.FloatField())

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        response = knowledge_search(reader=Reader.of(request.user), request=given.validated_data)
        return Response(_shown(response))


def _shown(response: SearchResponse) -> dict[str, Any]:
    """The response as OutputSerializer documents it, built directly: serializing ten results field
    by field cost more than a search's own Python."""
    results = [dataclasses.asdict(result) for result in response.results]
    for result in results:
        del result["document_id"]
    return {"results": results, "collections": response.collections, "timings_ms": response.timings_ms}
