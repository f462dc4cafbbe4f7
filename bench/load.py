"""Under load: concurrent clients against search, advisory answers and chat turns, through the
real server on a loopback port.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 20] [--warmup 10] [--web-workers 2]
                                   [--endpoints search answers chat] [--host 127.0.0.1]

Runs in its own database (finassist_load) holding what `make run` puts there: the demo users and
data, Ask CFPB (when the datasets folder has it, readable by advisors) and a knn `chat-intent`
version. Starts `manage.py serve` (gunicorn with the project's configuration) on a free port of
`--host`, which must be an IPv4 loopback address, with tasks in-process: none of the three paths
queues a task, so no Celery worker runs beside it. Then one phase per endpoint, each
`--clients` threads sending requests back to back for `--warmup` seconds (not measured) and
`--seconds` more; each client is an advisor of its own with a personal token, as the API
throttle counts per person:

- search: `POST /api/knowledge/search`, advisors' questions about the demo products and research,
  the demo FAQ's questions and Ask CFPB's, in a fixed shuffled order;
- answers: `POST /api/advisory/answers/`, the advisors' questions, knowledge scope;
- chat: `POST /api/chat/<conversation>/messages`, Banking77 messages the intent model did not
  train on, five to a conversation. Conversations are started by this process (a row each),
  outside the timed requests: the start throttle counts per address, and every client here
  has the same one.

Per endpoint: requests, requests/s, latency p50/p95/p99/max over every request, errors by status,
the server's own stage timings from each successful response and the time outside them
(waiting for a gunicorn thread, HTTP, authentication, throttle, storing, serialising), and the
CPU seconds spent in the window by the web server, the database, this load generator (on the
same cores as the server) and everything else on the machine. Chat turns are held to the
answers' target: their reply is a retrieval answer too. Exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import csv
import io
import ipaddress
import os
import random
import signal
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from common import ROOT, django_setup, summary_ms, use_database, write_result

use_database("finassist_load")
django_setup()

import httpx  # noqa: E402
import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from assistant.chat.intents import banking77_examples  # noqa: E402
from assistant.chat.selectors import ChatCustomer  # noqa: E402
from assistant.chat.services import conversation_start  # noqa: E402
from assistant.core import roles  # noqa: E402
from assistant.core.timing import with_total  # noqa: E402
from assistant.integrations.keys import token_issue, tokens_revoke  # noqa: E402
from assistant.knowledge.datasets import DATASETS, eval_queries  # noqa: E402
from assistant.knowledge.demo import DEMO_DATA  # noqa: E402
from assistant.knowledge.models import Collection  # noqa: E402
from assistant.training.data import split_of  # noqa: E402
from tests.support.processes import free_port, project_env, wait_for  # noqa: E402

TARGET_P95_MS = {"search": 400, "answers": 800, "chat": 800}
PER_CONVERSATION = 5
REQUEST_TIMEOUT_S = 60.0
SERVER_START_S = 180.0
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
SERVER_LOG = settings.DATA_DIR / "bench-load-server.log"

ADVISOR_QUESTIONS = (
    "What is the ongoing charge of the Global Equity Index Fund?",
    "Who is the Global Equity Index Fund for?",
    "How risky is the Short Duration Bond Fund?",
    "How does the Short Duration Bond Fund pay income?",
    "What is the objective of the Sustainable Balanced Portfolio?",
    "What does the Sustainable Balanced Portfolio cost?",
    "What does the rates outlook say about duration?",
    "What do falling interest rates mean for savers?",
    "What does the rates outlook mean for bond funds?",
    "How concentrated are equity markets?",
    "What can advisors do about equity market concentration?",
    "Which fund suits a cautious client with a short horizon?",
)


@dataclass(frozen=True)
class Outcome:
    status: str
    wall_s: float
    stages_ms: dict[str, float]
    kind: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status.startswith("2")


class Endpoint(ABC):
    """What one phase sends, and what the server says about its own time."""

    name = ""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts

    @abstractmethod
    def request(self, client: int, n: int, text: str) -> tuple[str, dict[str, Any]]:
        """The path and JSON body of client `client`'s `n`th request, asking `text`."""

    def reported(self, body: dict[str, Any]) -> tuple[dict[str, float], str | None]:
        """The response's stage timings (with their `total`) and the kind of reply, if any."""
        return body["timings_ms"], None


class Search(Endpoint):
    name = "search"

    def request(self, client: int, n: int, text: str) -> tuple[str, dict[str, Any]]:
        return "/api/knowledge/search", {"query": text, "k": 10}


class Answers(Endpoint):
    name = "answers"

    def request(self, client: int, n: int, text: str) -> tuple[str, dict[str, Any]]:
        return "/api/advisory/answers/", {"question": text, "scope": "knowledge"}


class Chat(Endpoint):
    name = "chat"

    def __init__(self, texts: list[str], users: list[int]) -> None:
        super().__init__(texts)
        self.users = users
        self.conversations: dict[int, str] = {}

    def request(self, client: int, n: int, text: str) -> tuple[str, dict[str, Any]]:
        if n % PER_CONVERSATION == 0:
            customer = ChatCustomer(user_id=self.users[client], session_key=None)
            self.conversations[client] = str(conversation_start(customer=customer).public_id)
        return f"/api/chat/{self.conversations[client]}/messages", {"text": text}

    def reported(self, body: dict[str, Any]) -> tuple[dict[str, float], str | None]:
        """A handoff or a clarifying question is stored without a `total`."""
        timings = body["reply"]["timings_ms"]
        return (timings if "total" in timings else with_total(timings)), body["reply"]["kind"]


def _prepare() -> None:
    call_command("migrate", verbosity=0)
    call_command("create_demo_users", stdout=io.StringIO())
    call_command("load_demo")
    call_command("load_dataset", "ask_cfpb", "--if-present", "--reader-group", roles.ADVISOR)
    call_command("train", "chat-intent", "--method", "knn", "--unless-active", "--activate", "always")


def _advisors(count: int) -> list[tuple[int, str]]:
    """One advisor a client, each with a new personal token (only hashes are kept)."""
    group = Group.objects.get(name=roles.ADVISOR)
    advisors = []
    for number in range(1, count + 1):
        user, _ = User.objects.get_or_create(username=f"load-advisor-{number:02d}")
        user.groups.add(group)
        tokens_revoke(user)
        advisors.append((user.pk, token_issue(user)))
    return advisors


def _search_queries() -> list[str]:
    with (DEMO_DATA / "faq" / "customer-faq.csv").open() as handle:
        queries = [*ADVISOR_QUESTIONS, *(row["question"] for row in csv.DictReader(handle))]
    if Collection.objects.filter(name=DATASETS["ask_cfpb"].collection).exists():
        queries += [row["query"] for _, row in eval_queries("ask_cfpb")]
    random.Random(7).shuffle(queries)
    return queries


def _chat_messages() -> list[str]:
    texts = [example.text for example in banking77_examples() if split_of(example.text) != "train"]
    random.Random(7).shuffle(texts)
    return texts


class Server:
    """`manage.py serve` in its own session, tasks in-process, its output in SERVER_LOG."""

    def __init__(self, host: str, web_workers: int) -> None:
        bind = f"{host}:{free_port()}"
        self.url = f"http://{bind}"
        with SERVER_LOG.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "serve", "--bind", bind, "--web-workers", str(web_workers)],
                cwd=ROOT,
                env=project_env(FINASSIST_CELERY_EAGER="true"),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, SERVER_START_S, f"the server at {self.url} (log: {SERVER_LOG})")

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(
                f"the server exited with {self.process.returncode}:\n{SERVER_LOG.read_text()}"
            )
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def processes(self) -> list[psutil.Process]:
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def command(self) -> str:
        """gunicorn's arguments as serve gave them."""
        for process in self.processes():
            arguments = process.cmdline()
            if "gunicorn" in arguments:
                return " ".join(arguments[arguments.index("gunicorn") :])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def _database_processes() -> list[psutil.Process]:
    """The PostgreSQL server behind this process's connection and its backends, when it runs
    on this machine; else none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        postmaster = psutil.Process(pid).parent()
        if postmaster is None or "postgres" not in postmaster.name():
            return []
        return [postmaster, *postmaster.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    """Their CPU time, with that of their children that have ended (a database backend whose
    connection reached its age limit, a replaced gunicorn worker)."""
    seconds = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        seconds += times.user + times.system + times.children_user + times.children_system
    return seconds


def _machine_busy_s() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


class CpuMeter:
    """CPU seconds each group of processes spends between start() and stop(), and the rest of the
    machine's busy time."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self.groups = groups

    def start(self) -> None:
        self.started = time.perf_counter()
        self.machine = _machine_busy_s()
        self.before = {name: _cpu_seconds(find()) for name, find in self.groups.items()}

    def stop(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        spent = {name: _cpu_seconds(find()) - self.before[name] for name, find in self.groups.items()}
        spent["other"] = _machine_busy_s() - self.machine - sum(spent.values())
        capacity = wall * (os.cpu_count() or 1)
        return {
            "window_s": round(wall, 2),
            "cpu_s": {name: round(s, 2) for name, s in spent.items()},
            "share_of_cores": {name: round(s / capacity, 3) for name, s in spent.items()},
        }


def _client(
    endpoint: Endpoint,
    client: int,
    clients: int,
    url: str,
    token: str,
    measure_from: float,
    stop_at: float,
    outcomes: list[Outcome],
) -> None:
    headers = {"Authorization": f"Token {token}"}
    n = 0
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=REQUEST_TIMEOUT_S) as http:
            while (now := time.perf_counter()) < stop_at:
                text = endpoint.texts[(n * clients + client) % len(endpoint.texts)]
                path, payload = endpoint.request(client, n, text)
                started = time.perf_counter()
                try:
                    response = http.post(path, json=payload)
                    status = str(response.status_code)
                except httpx.HTTPError as error:
                    response, status = None, type(error).__name__
                wall = time.perf_counter() - started
                if now >= measure_from:
                    outcomes.append(_outcome(endpoint, status, wall, response))
                n += 1
    finally:
        connections.close_all()


def _outcome(endpoint: Endpoint, status: str, wall: float, response: httpx.Response | None) -> Outcome:
    if response is None or not status.startswith("2"):
        return Outcome(status, wall, {}, detail=response.text[:300] if response is not None else "")
    stages, kind = endpoint.reported(response.json())
    return Outcome(status, wall, stages, kind)


def _latency(seconds: list[float]) -> dict[str, float]:
    """summary_ms with p99 and max."""
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    return {
        **summary_ms(ordered),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def _phase(
    endpoint: Endpoint, advisors: list[tuple[int, str]], server: Server, meter: CpuMeter, options: Any
) -> dict[str, Any]:
    outcomes: list[Outcome] = []
    measure_from = time.perf_counter() + options.warmup
    stop_at = measure_from + options.seconds
    threads = [
        threading.Thread(
            target=_client,
            args=(endpoint, client, options.clients, server.url, token, measure_from, stop_at, outcomes),
        )
        for client, (_, token) in enumerate(advisors)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    meter.start()
    for thread in threads:
        thread.join()
    cpu = meter.stop()
    return _summary(endpoint.name, outcomes, cpu)


def _summary(name: str, outcomes: list[Outcome], cpu: dict[str, Any]) -> dict[str, Any]:
    served = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if not o.ok]
    latency = _latency([o.wall_s for o in outcomes])
    stages = sorted({stage for o in served for stage in o.stages_ms if stage != "total"})
    errors = Counter(o.status for o in failed)
    return {
        "requests": len(outcomes),
        "requests_per_s": round(len(outcomes) / cpu["window_s"], 2),
        "latency": latency,
        "errors": dict(errors),
        "error_examples": {status: next(o.detail for o in failed if o.status == status) for status in errors},
        "target_p95_ms": TARGET_P95_MS[name],
        "meets_target": not failed and latency.get("p95_ms", float("inf")) <= TARGET_P95_MS[name],
        "server_stages_ms": {
            stage: _latency([o.stages_ms[stage] / 1000 for o in served if stage in o.stages_ms])
            for stage in [*stages, "total"]
        },
        "outside_stages_ms": _latency([o.wall_s - o.stages_ms["total"] / 1000 for o in served]),
        **({"kinds": dict(Counter(o.kind for o in served))} if any(o.kind for o in served) else {}),
        "cpu": {
            **cpu,
            "ms_per_request": {
                group: round(seconds * 1000 / max(len(outcomes), 1), 1)
                for group, seconds in cpu["cpu_s"].items()
            },
        },
    }


def _table(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        f"{'endpoint':<9}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'errors':>8}  target p95"
    ]
    for name, result in results.items():
        latency = result["latency"]
        rows.append(
            f"{name:<9}{result['requests']:>9}{result['requests_per_s']:>8}"
            + "".join(f"{latency.get(key, '-'):>9}" for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
            + f"{sum(result['errors'].values()):>8}  {result['target_p95_ms']} ms"
            + ("" if result["meets_target"] else " (missed)")
        )
        stages = ", ".join(
            f"{stage} {s['p50_ms']}" for stage, s in result["server_stages_ms"].items() if s["n"]
        )
        outside = result["outside_stages_ms"].get("p50_ms", "-")
        shares = ", ".join(f"{group} {share:.0%}" for group, share in result["cpu"]["share_of_cores"].items())
        rows.append(f"  p50 ms in the server: {stages}; outside its stages: {outside}")
        rows.append(f"  CPU (share of all cores): {shares}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds before each")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn processes (serve's option)")
    parser.add_argument("--endpoints", nargs="+", choices=TARGET_P95_MS, default=list(TARGET_P95_MS))
    parser.add_argument("--host", default="127.0.0.1", help="the loopback address to serve on")
    options = parser.parse_args()
    try:
        loopback = ipaddress.ip_address(options.host) in LOOPBACK
    except ValueError:
        loopback = False
    if not loopback:
        parser.error(f"--host must be a loopback address (in {LOOPBACK}), not {options.host!r}")
    if options.seconds <= 0 or options.warmup < 0 or options.clients < 1:
        parser.error("--seconds must be positive, --warmup not negative and --clients at least 1")

    _prepare()
    advisors = _advisors(options.clients)
    questions = list(ADVISOR_QUESTIONS)
    endpoints = {
        "search": lambda: Search(_search_queries()),
        "answers": lambda: Answers(questions),
        "chat": lambda: Chat(_chat_messages(), [user for user, _ in advisors]),
    }
    server = Server(options.host, options.web_workers)
    results = {}
    try:
        meter = CpuMeter(
            {
                "web": server.processes,
                "database": _database_processes,
                "load_generator": lambda: [psutil.Process()],
            }
        )
        setup = {
            "clients": options.clients,
            "seconds": options.seconds,
            "warmup_s": options.warmup,
            "server": server.command(),
            "celery_workers": "none (tasks in-process; these paths queue none)",
            "torch_threads_per_process": settings.TORCH_THREADS or "one per core",
            "loopback": server.url,
        }
        for name in options.endpoints:
            print(f"{name}: {options.clients} clients, {options.warmup:g} + {options.seconds:g} s")
            results[name] = {"settings": setup, **_phase(endpoints[name](), advisors, server, meter, options)}
    finally:
        server.stop()
    write_result("load", results)
    print(_table(results))
    if any(result["errors"] for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
