"""schemathesis over every operation of the OpenAPI schema, on a live server: no request, valid or
not, gets a server error; every response conforms to the schema (its status, media type, headers
and body); requests that violate the schema are refused; and so do sequences of calls that follow
the links schemathesis infers between operations (an answer asked, then read and rated)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# schemathesis loads its OpenAPI adapter on first use, and pytest rewrites its modules (it is a
# plugin) as they load: loaded now, at collection, they are not parsed while the live server's
# thread runs, which once failed with CPython 3.11's "AST constructor recursion depth mismatch".
from schemathesis.specs.openapi.schemas import OpenApiSchema  # noqa: F401

from advisory.models import Client, IncomeBand, RiskTolerance
from assistant.integrations.keys import SCOPES, api_key_issue, token_issue
from assistant.integrations.models import System
from claims.models import Policy
from tests.aml.conftest import account_open
from tests.claims.conftest import POLICIES

pytestmark = pytest.mark.slow  # a live server and about 1,500 generated requests

Credentials = dict[str, dict[str, str]]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = {POSITIVE: CONFORMANCE, NEGATIVE: [*CONFORMANCE, negative_data_rejection]}
EXAMPLES = {POSITIVE: 25, NEGATIVE: 15}
HYPOTHESIS = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "suppress_health_check": list(HealthCheck),
}


@pytest.fixture
def credentials(db, django_user_model) -> Credentials:
    """The headers for each of the schema's security schemes: an API key with every scope, and the
    token of a superuser (an advisor with every permission) who has a client."""
    system = System.objects.create(name="fuzz")
    _, key = api_key_issue(system=system, name="fuzz", scopes=list(SCOPES))
    user = django_user_model.objects.create_superuser("fuzz", email="fuzz@example.com", password="pw")
    Client.objects.create(
        advisor=user,
        reference="ADV-FUZZ",
        full_name="Fuzz Client",
        birth_year=1970,
        income_band=IncomeBand.FROM_50K_TO_100K,
        risk_tolerance=RiskTolerance.BALANCED,
        horizon_years=10,
    )
    return {
        "apiKey": {"Authorization": f"Bearer {key}"},
        "tokenAuth": {"Authorization": f"Token {token_issue(user)}"},
    }


def headers_of(credentials: Credentials, operation: schemathesis.APIOperation) -> dict[str, str]:
    """The credentials of the operation's first security scheme we hold (none for an open one)."""
    schemes = [name for requirement in operation.definition.raw.get("security", []) for name in requirement]
    return next((credentials[name] for name in schemes if name in credentials), {})


def negatable(operation: schemathesis.APIOperation) -> bool:
    """Whether some input of the operation can be made invalid: a body, a query or header
    parameter, or a typed path parameter."""
    return bool(operation.body) or any(
        parameter.location != "path" or parameter.definition.get("schema", {}).get("type") != "string"
        for parameter in operation.iter_parameters()
    )


@pytest.fixture
def unthrottled(settings) -> None:
    """Throttles count in windows of the wall clock: how many of the fuzz's requests fall in one
    window depends on how fast the machine runs, and Hypothesis replays an example expecting the
    responses it had (FlakyStrategyDefinition otherwise). The throttles have their own tests."""
    settings.API_RATE = settings.CHAT_START_RATE = (10**9, 60)


def test_every_operation_conforms_to_the_schema(site, credentials, unthrottled) -> None:
    for row in POLICIES:
        Policy.objects.create(**row)
    account_open("CUS-T1", "ACC-T1")
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    # The credentials are sent as they are; the API, like DRF, ignores fields it does not know.
    schema.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: dict[str, str] = {}
    followed: set[str] = set()

    def call_kwargs(case: schemathesis.Case) -> dict[str, Any]:
        # The first answer loads the embedding model: slower than requests' default 10 s on a busy machine.
        return {"base_url": site.url, "headers": headers_of(credentials, case.operation), "timeout": 120}

    def validated(case: schemathesis.Case, response: Any, checks: list[Any]) -> None:
        try:
            case.validate_response(response, checks=checks, headers=headers_of(credentials, case.operation))
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.setdefault(
                    f"{case.operation.label}: {failure.title}",
                    f"{failure.message}\n{case.method} {case.formatted_path} {case.media_type} {case.body!r}"
                    f"\n-> {response.status_code} {response.text[:500]}",
                )

    def fuzz(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(max_examples=EXAMPLES[mode], **HYPOTHESIS)
        def run(case: schemathesis.Case) -> None:
            validated(case, case.call(**call_kwargs(case)), CHECKS[mode])

        try:
            run()
        except Unsatisfiable:
            assert mode == NEGATIVE, f"{operation.label}: no valid request could be generated"

    for operation in operations:
        for mode in (POSITIVE, NEGATIVE) if negatable(operation) else (POSITIVE,):
            fuzz(operation, mode)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return call_kwargs(case)

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            validated(case, response, CONFORMANCE)
            if response.status_code < 300 and "{" in case.operation.path:
                followed.add(case.operation.label)

    Workflow.run(settings=hypothesis_settings(max_examples=30, stateful_step_count=6, **HYPOTHESIS))
    assert len(operations) == 28
    assert followed, "the workflow never reached a resource through a link"
    assert failures == {}, "\n\n".join(f"{title}\n{details}" for title, details in failures.items())
