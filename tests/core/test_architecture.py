"""The shape of the code: what a web process loads, and which way the modules depend."""

import ast
import json
import subprocess
import sys
from pathlib import Path

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


PACKAGES = ("assistant", "advisory", "claims", "aml")
DOMAIN_APPS = ("advisory", "claims", "aml", "lab")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function (as a cycle hides there)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {other for other in _imports(path) if other in modules and other != name}
            for name, path in modules.items()}  # fmt: skip


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def test_no_modules_import_each_other_not_even_inside_functions():
    assert _cycles(_graph()) == []


def test_only_workers_and_commands_import_tasks_services_send_them_by_name():
    importers = {
        module: sorted(other for other in imported if other.endswith(".tasks"))
        for module, imported in _graph().items()
        if not module.endswith(".tasks") and ".management.commands." not in module
    }
    assert {module: tasks for module, tasks in importers.items() if tasks} == {}


def test_the_core_never_imports_a_domain_app():
    assert {
        module: sorted(other for other in imported if other.split(".")[0] in DOMAIN_APPS)
        for module, imported in _graph().items()
        if module.startswith("assistant.") and any(o.split(".")[0] in DOMAIN_APPS for o in imported)
    } == {}


ORM_READS = frozenset(
    {"objects", "filter", "exclude", "select_related", "prefetch_related", "order_by", "annotate",
     "aggregate", "values_list", "in_bulk"}
)  # fmt: skip


def test_views_and_apis_read_through_selectors_and_write_through_services():
    queries = [
        f"{module}:{node.lineno} .{node.attr}"
        for module, path in _modules().items()
        if module.rsplit(".", 1)[-1] in {"views", "apis", "web"}
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ORM_READS
    ]
    assert queries == []
