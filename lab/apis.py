"""The decision lab's API: start a study, follow it, change its answers, cancel or adopt it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assistant.core.access import permitted, signed_in
from assistant.core.errors import NotFound
from assistant.training.config import METHODS
from lab.export import document
from lab.recommend import Answers
from lab.selectors import progress, studies, study_get
from lab.services import answers_set, study_adopt, study_cancel, study_create

MAX_OPTIONS = 20

StudyOut = inline_serializer(
    "LabStudy",
    {
        "study": serializers.IntegerField(),
        "task": serializers.CharField(),
        "status": serializers.CharField(),
        "held_out_label": serializers.CharField(),
        "answers": serializers.DictField(),
        "progress": serializers.ListField(child=serializers.DictField()),
        "techniques": serializers.DictField(help_text="each technique's figures, by name"),
        "recommendation": serializers.CharField(allow_null=True, help_text="the recommended technique"),
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
        task = serializers.CharField(max_length=100)
        techniques = serializers.ListField(
            child=serializers.ChoiceField(choices=METHODS),
            required=False,
            allow_empty=False,
            max_length=len(METHODS),
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

    @extend_schema(operation_id="lab_studies_list", responses={200: StudyOut})
    def get(self, request: Request) -> Response:
        return Response([_out(study) for study in studies()])

    @extend_schema(
        operation_id="lab_study_create",
        request=StudyInputSerializer,
        responses={201: StudyOut, 400: OpenApiResponse(description="a field is wrong"), 404: None},
    )
    def post(self, request: Request) -> Response:
        given = self.StudyInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        study = study_create(
            task=given.validated_data["task"],
            techniques=given.validated_data.get("techniques"),
            answers=given.validated_data["answers"],
            options=given.validated_data["options"],
            user=signed_in(request),
        )
        return Response(_out(study_get(study.pk)), status=status.HTTP_201_CREATED)


class StudyApi(APIView):
    permission_classes = [permitted("lab.view_study")]

    @extend_schema(operation_id="lab_study_get", responses={200: StudyOut, 404: None})
    def get(self, request: Request, study_id: int) -> Response:
        return Response(_out(study_get(study_id)))


class StudyAnswersApi(APIView):
    """Change the questionnaire's answers; the recommendation follows (nothing is refitted)."""

    permission_classes = [permitted("lab.change_study")]

    @extend_schema(
        operation_id="lab_study_answers",
        request=AnswersInputSerializer,
        responses={200: StudyOut, 400: OpenApiResponse(description="an answer is wrong"), 404: None},
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
        responses={200: StudyOut, 400: OpenApiResponse(description="not possible now"), 403: None, 404: None},
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
