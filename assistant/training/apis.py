"""The ML engineers' API: create a task from a file, and add labelled examples to a knn or icl
version (served at once, no refit). Signed-in people with the permission, or an API token."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.core.access import permitted, signed_in
from assistant.core.api import AnyField, TextField
from assistant.training.inference import MAX_TEXT_CHARS
from assistant.training.registry import Example
from assistant.training.selectors import version_of
from assistant.training.services import MAX_EXAMPLES_ADDED, MAX_LABEL_CHARS, examples_add, task_create


class TaskCreateApi(APIView):
    """Create a classification task from a CSV or JSONL file of labelled examples."""

    permission_classes = [permitted("training.add_taskdefinition")]
    parser_classes = [MultiPartParser, FormParser]

    class TaskInputSerializer(serializers.Serializer[Any]):
        def get_fields(self) -> dict[str, AnyField]:
            return {
                "name": serializers.SlugField(max_length=100),
                "data": serializers.FileField(help_text="CSV with a header row, or JSONL"),
                "text_column": TextField(max_length=100, default="text"),
                "label_column": TextField(max_length=100, default="label"),
                "description": TextField(max_length=500, required=False, default="", allow_blank=True),
            }

    @extend_schema(
        operation_id="training_task_create",
        request=TaskInputSerializer,
        responses={
            201: inline_serializer(
                "TaskCreated",
                {
                    "name": TextField(),
                    "labels": serializers.ListField(child=TextField()),
                    "dataset": inline_serializer(
                        "TaskDataset",
                        {
                            "hash": TextField(),
                            "rows": serializers.IntegerField(),
                            "label_counts": serializers.DictField(child=serializers.IntegerField()),
                        },
                    ),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        given = self.TaskInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["data"]
        dataset = task_create(
            name=given.validated_data["name"],
            file_name=upload.name,
            content=upload.read(),
            text_column=given.validated_data["text_column"],
            label_column=given.validated_data["label_column"],
            description=given.validated_data["description"],
            user=signed_in(request),
        )
        return Response(
            {
                "name": dataset.task.name,
                "labels": dataset.task.labels,
                "dataset": {"hash": dataset.hash, "rows": dataset.rows, "label_counts": dataset.label_counts},
            },
            status=status.HTTP_201_CREATED,
        )


class ExamplesAddApi(APIView):
    """Add labelled examples (and new labels) to a knn or icl version; predictions use them at once."""

    permission_classes = [permitted("training.add_indexedexample")]

    class LabelledExampleSerializer(serializers.Serializer[Any]):
        def get_fields(self) -> dict[str, AnyField]:
            return {
                "text": TextField(max_length=MAX_TEXT_CHARS),
                "label": TextField(max_length=MAX_LABEL_CHARS),
            }

    class ExamplesInputSerializer(serializers.Serializer[Any]):
        examples = serializers.ListField(allow_empty=False, max_length=MAX_EXAMPLES_ADDED)

        def validate_examples(self, value: list[Any]) -> list[Example]:
            items = ExamplesAddApi.LabelledExampleSerializer(data=value, many=True)
            items.is_valid(raise_exception=True)
            return [Example(item["text"], item["label"]) for item in items.validated_data]

    @extend_schema(
        operation_id="training_version_examples_add",
        request=inline_serializer("ExamplesAdd", {"examples": LabelledExampleSerializer(many=True)}),
        responses={
            201: inline_serializer(
                "ExamplesAdded",
                {
                    "added": serializers.IntegerField(),
                    "new_labels": serializers.ListField(child=TextField()),
                    "labels": serializers.ListField(child=TextField()),
                },
            )
        },
    )
    def post(self, request: Request, version_id: int) -> Response:
        version = version_of(version_id)
        given = self.ExamplesInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        added = examples_add(version, given.validated_data["examples"], user=signed_in(request))
        return Response(
            {"added": added.added, "new_labels": added.new_labels, "labels": added.labels},
            status=status.HTTP_201_CREATED,
        )
