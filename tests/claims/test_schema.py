"""schemathesis: requests generated from the OpenAPI schema never get a server error."""

from __future__ import annotations

import pytest

from tests.support.schema import server_errors

pytestmark = pytest.mark.slow  # thousands of generated requests


def test_generated_requests_to_the_claims_api_never_get_a_server_error(
    site, test_queue, policies, claims_system
):
    headers = {"Authorization": f"Bearer {claims_system[1]}"}

    operations, failures = server_errors(site.url, path_regex="^/api/claims", headers=headers, examples=100)

    assert operations == 6
    assert failures == []
