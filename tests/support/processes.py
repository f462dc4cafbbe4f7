"""Real processes for tests: Celery workers, a Redis server, free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def project_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "assistant.settings"}
    env.update(overrides)
    return env


class Worker:
    """A Celery worker in its own process group, consuming one queue."""

    def __init__(self, queue: str, log_dir: Path, env: dict[str, str]) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.log = log_dir / f"worker-{self.name.split('@')[0]}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "tests.support.celery_app", "worker",
            "-Q", queue, "-n", self.name, "--concurrency", "1", "--pool", "prefork",
            "--without-mingle", "--without-gossip", "--loglevel", "INFO",
        ]  # fmt: skip
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(self._ready, 60, f"worker {self.name} to start (log: {self.log})")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited with {self.process.returncode}:\n{self.log.read_text()}")
        return " ready." in self.log.read_text()

    def pool_children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        ).stdout
        return [int(pid) for pid in out.split()]

    def kill(self) -> None:
        """SIGKILL the whole worker, pool included: what a lost node or the OOM killer does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def kill_main(self) -> None:
        """SIGKILL the main process alone (`kill -9` of its pid, the OOM killer's pick). Its pool
        processes must die with it (Celery gives them SIGKILL as their parent-death signal): an
        orphan would go on working beside the worker started in its place."""
        children = psutil.Process(self.process.pid).children()
        assert children, f"worker {self.name} has no pool process"
        self.process.kill()
        self.process.wait(timeout=10)
        wait_for(lambda: not any(map(_running, children)), 10, f"pool processes {children} to die")

    def kill_main_when(self, predicate: Any, timeout: float, what: str) -> None:
        """`kill_main` at a moment `predicate` holds. The whole worker is stopped (SIGSTOP) while it
        is checked, so that it cannot finish what was seen in flight between the check and the kill:
        under load that window let a claim complete before the kill it was meant to outlive."""

        def killed() -> bool:
            os.killpg(self.process.pid, signal.SIGSTOP)
            try:
                if predicate() and _still(predicate):
                    self.kill_main()
                    return True
            finally:
                if self.process.poll() is None:
                    os.killpg(self.process.pid, signal.SIGCONT)
            return False

        wait_for(killed, timeout, what)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _still(predicate: Any, settle: float = 0.5) -> bool:
    """Whether `predicate` holds again after `settle` seconds: a commit the worker sent just before it
    was stopped becomes visible only once the database has finished it."""
    time.sleep(settle)
    return bool(predicate())


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class RedisServer:
    """A throwaway Redis on a free port, to stop and start again at will (empty each time)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise AssertionError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, 10, f"redis-server on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
