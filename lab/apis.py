"""The decision lab's API: start a study, follow it, change its answers, cancel or adopt it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.core.access import permitted, signed_in
from assistant.core.api import TextField
from assistant.core.errors import NotFound
from assistant.training.config import METHODS
from lab.export import document
from lab.knowledge import KNOWLEDGE_TECHNIQUES, QUESTION_DATASETS, knowledge_study_create
from lab.models import Study
from lab.recommend import Answers
from lab.selectors import progress, studies, study_get
from lab.services import answers_set, study_adopt, study_cancel, study_create

MAX_OPTIONS = 20
MAX_QUESTIONS = 20_000
TECHNIQUES = sorted({*METHODS, *KNOWLEDGE_TECHNIQUES})

StudyOut = inline_serializer(
    "LabStudy",
    {
        "study": serializers.IntegerField(),
        "task": TextField(help_text="the task studied, or a knowledge study's collection"),
        "status": TextField(),
        "held_out_label": TextField(),
        "answers": serializers.DictField(),
        "progress": serializers.ListField(child=serializers.DictField()),
        "techniques": serializers.DictField(help_text="each technique's figures, by name"),
        "recommendation": TextField(allow_null=True, help_text="the recommended technique"),
        "why": serializers.DictField(allow_null=True, help_text="reasons, runner-up and rules of thumb"),
    },
)


def _answers_field() -> serializers.DictField:
    return serializers.DictField(
        required=False,
        default=dict,
        help_text=f"questionnaire answers: {', '.join(Answers.__dataclass_fields__)}",
    )


class AnswersInputSerializer(serializers.Serializer[Any]):
    answers = _answers_field()


def _out(study: Any) -> dict[str, Any]:
    return {**document(study), "progress": progress(study)}


class StudiesApi(APIView):
    def get_permissions(self) -> list[Any]:
        codename = "lab.add_study" if self.request.method == "POST" else "lab.view_study"
        return [permitted(codename)()]

    class StudyInputSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=Study.Kind.choices, default=Study.Kind.CLASSIFICATION)
        task = TextField(max_length=100, required=False, help_text="a classification study's task")
        collection = TextField(max_length=100, required=False, help_text="a knowledge study's collection")
        dataset = serializers.ChoiceField(
            choices=QUESTION_DATASETS, required=False, help_text="a knowledge study's questions: a dataset's"
        )
        questions = serializers.ListField(
            child=serializers.DictField(),
            required=False,
            allow_empty=False,
            max_length=MAX_QUESTIONS,
            help_text='a knowledge study\'s questions: {"query", "relevant": [ids], "split": train|test}',
        )
        techniques = serializers.ListField(
            child=serializers.ChoiceField(choices=TECHNIQUES),
            required=False,
            allow_empty=False,
            max_length=len(TECHNIQUES),
        )
        answers = _answers_field()
        options = serializers.DictField(
            child=serializers.DictField(), required=False, default=dict,
            help_text="training options per technique, e.g. {\"lora\": {\"epochs\": 1}}",
        )  # fmt: skip

        def validate_options(self, value: dict[str, Any]) -> dict[str, Any]:
            if sum(len(given) for given in value.values()) > MAX_OPTIONS:
                raise serializers.ValidationError(f"at most {MAX_OPTIONS} options")
            return value

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            needed = "collection" if data["kind"] == Study.Kind.KNOWLEDGE else "task"
            if not data.get(needed):
                raise serializers.ValidationError({needed: f"a {data['kind']} study needs one"})
            return data

    @extend_schema(operation_id="lab_studies_list", responses={200: type(StudyOut)(many=True)})
    def get(self, request: Request) -> Response:
        return Response([_out(study) for study in studies()])

    @extend_schema(
        operation_id="lab_study_create",
        request=StudyInputSerializer,
        responses={201: StudyOut, 400: OpenApiResponse(description="a field is wrong")},
    )
    def post(self, request: Request) -> Response:
        given = self.StudyInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if data["kind"] == Study.Kind.KNOWLEDGE:
            study = knowledge_study_create(
                collection=data["collection"],
                questions=data.get("questions"),
                dataset=data.get("dataset", ""),
                techniques=data.get("techniques"),
                options=data["options"],
                answers=data["answers"],
                user=signed_in(request),
            )
        else:
            study = study_create(
                task=data["task"],
                techniques=data.get("techniques"),
                answers=data["answers"],
                options=data["options"],
                user=signed_in(request),
            )
        return Response(_out(study_get(study.pk)), status=status.HTTP_201_CREATED)


class StudyApi(APIView):
    permission_classes = [permitted("lab.view_study")]

    @extend_schema(operation_id="lab_study_get", responses={200: StudyOut})
    def get(self, request: Request, study_id: int) -> Response:
        return Response(_out(study_get(study_id)))


class StudyAnswersApi(APIView):
    """Change the questionnaire's answers; the recommendation follows (nothing is refitted)."""

    permission_classes = [permitted("lab.change_study")]

    @extend_schema(
        operation_id="lab_study_answers",
        request=AnswersInputSerializer,
        responses={200: StudyOut, 400: OpenApiResponse(description="an answer is wrong")},
    )
    def post(self, request: Request, study_id: int) -> Response:
        study = study_get(study_id)
        given = AnswersInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(_out(answers_set(study, given.validated_data["answers"])))


class StudyActionApi(APIView):
    """`cancel` stops the study; `adopt` activates the recommended version for the task."""

    permission_classes = [permitted("lab.change_study")]

    @extend_schema(
        operation_id="lab_study_action",
        request=None,
        responses={200: StudyOut, 400: OpenApiResponse(description="not possible now")},
    )
    def post(self, request: Request, study_id: int, action: str) -> Response:
        study = study_get(study_id)
        if action == "cancel":
            return Response(_out(study_cancel(study)))
        if action == "adopt":
            if not request.user.has_perm("training.activate_modelversion"):
                return Response(
                    {"detail": "activating a version needs the training.activate_modelversion permission"},
                    status=status.HTTP_403_FORBIDDEN,
                )
            study_adopt(study, user=signed_in(request))
            return Response(_out(study_get(study_id)))
        raise NotFound(f"no action {action!r}: cancel or adopt")
