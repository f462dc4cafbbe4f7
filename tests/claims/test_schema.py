"""schemathesis: requests generated from the OpenAPI schema never get a server error."""

from __future__ import annotations

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings

EXAMPLES_PER_OPERATION = 100


def test_generated_requests_to_the_claims_api_never_get_a_server_error(
    site, test_queue, policies, claims_system
):
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    operations = [result.ok() for result in schema.include(path_regex="^/api/claims").get_all_operations()]
    headers = {"Authorization": f"Bearer {claims_system[1]}"}
    failures: list[str] = []

    assert len(operations) == 6
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(base_url=site.url, headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {case.body!r}"
                )

        run()

    assert failures == []
