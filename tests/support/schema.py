"""schemathesis over the project's OpenAPI schema: requests generated for some operations."""

from __future__ import annotations

import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings


def server_errors(
    base_url: str, *, path_regex: str, headers: dict[str, str], examples: int
) -> tuple[int, list[str]]:
    """(operations tried, the requests answered with a 5xx) for the operations under `path_regex`."""
    schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    operations = [result.ok() for result in schema.include(path_regex=path_regex).get_all_operations()]
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(base_url=base_url, headers=headers)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: {case.body!r}"
                )

        run()
    return len(operations), failures
