"""Settings come from the environment, validated; bad values stop start-up with a clear message."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import settings as project_settings
from assistant.env import ConfigurationError, Env, database_from_url, read_dotenv
from tests.support.processes import ROOT, project_env


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=project_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_nonsense_database_url_stops_start_up_naming_the_variable():
    result = run_manage("check", DATABASE_URL="nonsense")

    assert result.returncode == 2
    assert (
        "DATABASE_URL='nonsense': expected a URL starting with postgres:// or postgresql://" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_every_bad_variable_is_reported_at_once_and_passwords_are_masked():
    result = run_manage(
        "check",
        DATABASE_URL="postgresql://app:hunter2@db:port/finassist",
        FINASSIST_DB_CONN_MAX_AGE="soon",
        FINASSIST_CELERY_EAGER="maybe",
    )

    assert result.returncode == 2
    assert "DATABASE_URL='postgresql://app:***@db:port/finassist': the port is not a number" in result.stderr
    assert "FINASSIST_DB_CONN_MAX_AGE='soon': expected a whole number" in result.stderr
    assert "FINASSIST_CELERY_EAGER='maybe': expected one of true/false" in result.stderr
    assert "hunter2" not in result.stderr


def test_production_requires_a_secret_key_and_hosts_and_refuses_debug():
    result = run_manage("check", FINASSIST_ENVIRONMENT="production", FINASSIST_DEBUG="true")

    assert result.returncode == 2
    assert "FINASSIST_SECRET_KEY is required in production" in result.stderr
    assert "FINASSIST_ALLOWED_HOSTS is required in production" in result.stderr
    assert "FINASSIST_DEBUG must be false in production" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        FINASSIST_ENVIRONMENT="production",
        FINASSIST_SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-0123456789",
        FINASSIST_ALLOWED_HOSTS="finassist.example.com",
    )

    assert result.returncode == 0, result.stderr


def test_a_visibility_timeout_shorter_than_the_task_limit_is_refused():
    result = run_manage("check", FINASSIST_CELERY_TIME_LIMIT="600", FINASSIST_CELERY_VISIBILITY_TIMEOUT="300")

    assert result.returncode == 2
    assert (
        "FINASSIST_CELERY_VISIBILITY_TIMEOUT must be greater than FINASSIST_CELERY_TIME_LIMIT"
        in result.stderr
    )


def test_env_parses_typed_values_and_treats_empty_as_unset():
    env = Env({"B": "yes", "I": "42", "L": " a, b ,,c ", "E": ""})

    assert env.boolean("B", False, "") is True
    assert env.integer("I", 0, "", minimum=1) == 42
    assert env.csv("L", "", "") == ["a", "b", "c"]
    assert env.integer("E", 7, "") == 7
    env.check()


def test_env_collects_errors_and_raises_once():
    env = Env({"I": "-3", "C": "blue"})
    env.integer("I", 0, "", minimum=0)
    env.choice("C", "red", "", choices=("red", "green"))

    with pytest.raises(ConfigurationError) as raised:
        env.check()

    assert "I='-3': must be at least 0" in str(raised.value)
    assert "C='blue': expected one of red, green" in str(raised.value)


def test_database_url_with_a_socket_directory_and_options():
    database = database_from_url("postgresql://app:p%40ss@/finassist?host=/run/pg&sslmode=disable")

    assert database["HOST"] == "/run/pg"
    assert database["PASSWORD"] == "p@ss"
    assert database["NAME"] == "finassist"
    assert database["OPTIONS"] == {"sslmode": "disable", "connect_timeout": "10"}


def test_dotenv_file_is_read_and_a_malformed_line_is_named(tmp_path: Path):
    good = tmp_path / "good.env"
    good.write_text("# comment\nexport A=1\nB='two words'\n")
    bad = tmp_path / "bad.env"
    bad.write_text("A=1\nthis is not an assignment\n")

    assert read_dotenv(good) == {"A": "1", "B": "two words"}
    with pytest.raises(ConfigurationError, match=r"bad\.env, line 2"):
        read_dotenv(bad)


def _documented(text: str, pattern: str) -> set[str]:
    return set(re.findall(pattern, text, flags=re.MULTILINE))


def test_env_example_and_readme_document_exactly_the_declared_variables():
    declared = set(project_settings.env.declared)
    example = _documented((ROOT / ".env.example").read_text(), r"^#?\s*([A-Z][A-Z0-9_]+)=")
    readme = _documented((ROOT / "README.md").read_text(), r"^\| `([A-Z][A-Z0-9_]+)`")

    assert example == declared
    assert readme == declared


def test_no_module_but_settings_reads_the_environment():
    readers = []
    for package in ("assistant", "advisory", "claims", "aml"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            readers += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}
            ]
    # env.py reads it for settings; the others only set DJANGO_SETTINGS_MODULE or pass it to children.
    allowed = {"env.py", "wsgi.py", "asgi.py", "celery.py", "serve.py"}
    assert [r for r in readers if Path(r.split(":")[0]).name not in allowed] == []


def test_a_task_allowed_to_outlive_the_visibility_timeout_fails_the_system_check(settings):
    from assistant.celery import app
    from assistant.core.checks import task_time_limits_below_visibility_timeout

    @app.task(name="tests.too_long", time_limit=settings.CELERY_VISIBILITY_TIMEOUT + 1)
    def too_long() -> None:
        """Declares a limit beyond what the broker tolerates."""

    try:
        errors = task_time_limits_below_visibility_timeout()
    finally:
        app.tasks.unregister("tests.too_long")

    assert [error.id for error in errors] == ["finassist.E001"]
    assert "task tests.too_long may run" in errors[0].msg
