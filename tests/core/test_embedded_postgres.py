"""The embedded server: started on demand, one per data directory, reused across commands."""

import subprocess
import sys
import time

import psutil
import psycopg
import pytest

from assistant.db.embedded import SERVER_SETTINGS, SUPERUSER, EmbeddedPostgres
from tests.support.processes import ROOT, project_env

pytestmark = pytest.mark.slow  # starts and stops database servers

START_AT_ONCE = """
import sys, time
from pathlib import Path
from assistant.db.embedded import SERVER_SETTINGS, SUPERUSER, EmbeddedPostgres
go = float(sys.argv[2])
time.sleep(max(0.0, go - time.time()))
server = EmbeddedPostgres(Path(sys.argv[1]), "finassist")
server.ensure_running()
print(server.status().pid)
"""


def _postmasters(pgdata) -> list[int]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(process.pid)
    return found


@pytest.fixture
def pgdata(tmp_path):
    path = tmp_path / "pgdata"
    yield path
    EmbeddedPostgres(path, "finassist").stop()


def test_commands_started_at_once_share_one_server_on_a_data_directory(pgdata):
    go = time.time() + 2.0
    commands = [
        subprocess.Popen(
            [sys.executable, "-c", START_AT_ONCE, str(pgdata), str(go)],
            cwd=ROOT,
            env=project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [command.communicate(timeout=120) for command in commands]

    assert [command.returncode for command in commands] == [0, 0, 0], outputs
    pids = {out.strip() for out, _ in outputs}
    assert len(pids) == 1
    assert _postmasters(pgdata) == [int(pids.pop())]


def test_a_running_server_is_reused_and_a_stopped_one_restarted_on_demand(pgdata):
    server = EmbeddedPostgres(pgdata, "finassist")
    socket_dir = server.ensure_running()
    first = server.status().pid

    assert server.ensure_running() == socket_dir
    assert server.status().pid == first
    assert server.stop() is True
    assert server.status().running is False

    server.ensure_running()
    assert server.status().running is True
    assert server.status().pid != first


def test_a_new_server_runs_with_its_settings_including_those_that_need_a_restart(pgdata):
    socket_dir = EmbeddedPostgres(pgdata, "finassist").ensure_running()

    with psycopg.connect(host=str(socket_dir), user=SUPERUSER, dbname="postgres") as conn:
        differing = [
            name
            for name, value in SERVER_SETTINGS.items()
            if not conn.execute(
                "SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", [name, value]
            ).fetchone()[0]
        ]
    assert differing == []
