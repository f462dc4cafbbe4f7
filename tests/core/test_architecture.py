"""The shape of the code: what a web process loads, and which way the modules depend."""

import json
import subprocess
import sys

from tests.support.processes import ROOT, project_env

# Loaded where models are trained or served, or where synthetic examples are built: never by a web
# process starting up, which would then carry them in every request's memory and start-up time.
NOT_IN_A_WEB_PROCESS = ("torch", "transformers", "peft", "sklearn", "claims.synthetic", "aml.synthetic")

WEB_PROCESS = """
import json, sys
import django
django.setup()
from django.urls import get_resolver
get_resolver().url_patterns  # every view and API module, as the first request imports them
from assistant.wsgi import application
print(json.dumps(sorted(sys.modules)))
"""


def test_a_web_process_starts_without_models_or_synthetic_data():
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=project_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))

    assert [name for name in NOT_IN_A_WEB_PROCESS if name in loaded] == []
