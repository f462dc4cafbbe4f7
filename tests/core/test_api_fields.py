"""What the API takes is what its schema says: strings only where it says string; the refusals of
operations that serve a model documented."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from assistant.core.api import TextField


class Feedback(serializers.Serializer[Any]):
    comment = TextField(max_length=20)


@pytest.mark.parametrize("given", [123, 4.5, True, ["text"], {"text": "x"}])
def test_a_text_field_takes_a_string_and_nothing_else(given):
    form = Feedback(data={"comment": given})

    assert not form.is_valid()
    assert form.errors["comment"] == ["Not a valid string."]
    assert Feedback(data={"comment": "fine"}).is_valid()


@pytest.mark.django_db
def test_operations_that_serve_a_model_document_not_ready_and_every_refusal_its_body():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]

    for path, method in [
        ("/api/chat/{conversation}/messages", "post"),
        ("/api/advisory/answers/", "post"),
        ("/api/aml/screen", "post"),
    ]:
        refused = paths[path][method]["responses"]["503"]
        assert refused["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert refused["headers"]["Retry-After"]["required"] is False
    for operations in paths.values():
        for operation in operations.values():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
