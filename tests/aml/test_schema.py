"""schemathesis: requests generated from the OpenAPI schema never get a server error."""

from __future__ import annotations

import pytest

from tests.aml.test_api import key_for
from tests.support.schema import server_errors

pytestmark = pytest.mark.slow  # thousands of generated requests


def test_generated_requests_to_the_aml_api_never_get_a_server_error(
    site, test_queue, account, typology_model
):
    typology_model()
    _, key = key_for("fuzz", ["aml:screen"])

    operations, failures = server_errors(
        site.url, path_regex="^/api/aml", headers={"Authorization": f"Bearer {key}"}, examples=60
    )

    assert operations == 4
    assert failures == []
