"""The compose file, the Kubernetes manifests and the Dockerfile agree with the settings."""

import re
from importlib.util import find_spec
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands
from django.urls import resolve

from assistant import settings as project_settings
from tests.support.processes import ROOT

DEPLOY = ROOT / "deploy"
APP_SERVICES = {"web", "worker-cpu", "worker-gpu", "beat"}
ALL_SERVICES = APP_SERVICES | {"db", "redis"}
IMAGE, GPU_IMAGE = "finassist", "finassist-gpu"
WEB_PORT = 8000


def _image_name(image: str) -> str:
    return image.rsplit(":", 1)[0]


def _queues(command: list[str]) -> list[str]:
    return command[command.index("-Q") + 1].split(",")


def _granted_role(command: list[str]) -> str:
    """The role the migrate command grants the application's privileges to."""
    return re.fullmatch(
        r"python manage\.py migrate --noinput && python manage\.py grant_app_role (\w+)", command[-1]
    ).group(1)


def _user(url: str) -> str:
    """The user a database URL names (compose's `${VAR:?message}` passwords leave urlsplit lost)."""
    return re.match(r"postgresql://([^:@/]+)[:@]", url).group(1)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    objects = {}
    for name in kustomization["resources"]:
        for document in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()):
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


@pytest.fixture(scope="module")
def k8s_secrets() -> dict[str, dict[str, str]]:
    """secret.example.yaml's secrets, by name: what the real ones hold, with made-up passwords."""
    documents = yaml.safe_load_all((DEPLOY / "k8s" / "secret.example.yaml").read_text())
    return {document["metadata"]["name"]: document["stringData"] for document in documents}


def _k8s_env(container: dict, secrets: dict[str, dict[str, str]]) -> tuple[dict[str, str], set[str]]:
    """The variables a container gets from secrets (its own entries over those loaded whole, as
    Kubernetes orders them), and the names of the secrets it reads."""
    env, read = {}, set()
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            read.add(source["secretRef"]["name"])
            env.update(secrets[source["secretRef"]["name"]])
    for entry in container.get("env", []):
        if "secretKeyRef" in entry.get("valueFrom", {}):
            ref = entry["valueFrom"]["secretKeyRef"]
            read.add(ref["name"])
            env[entry["name"]] = secrets[ref["name"]][ref["key"]]
    return env, read


@pytest.fixture(scope="module")
def k8s_containers(k8s) -> dict[str, dict]:
    """The first container of each workload, by workload name."""
    return {
        name: obj["spec"]["template"]["spec"]["containers"][0]
        for (kind, name), obj in k8s.items()
        if kind in {"Deployment", "StatefulSet", "Job"}
    }


def test_compose_and_kubernetes_run_the_same_services(compose, k8s_containers):
    assert set(compose) >= ALL_SERVICES
    assert set(k8s_containers) >= ALL_SERVICES
    assert set(compose) - ALL_SERVICES == set(k8s_containers) - ALL_SERVICES == {"migrate"}


@pytest.mark.parametrize("source", ["compose", "k8s"])
def test_workers_consume_every_configured_queue_and_only_gpu_workers_the_gpu_queue(
    source, compose, k8s_containers
):
    commands = (
        {name: compose[name]["command"] for name in APP_SERVICES}
        if source == "compose"
        else {name: k8s_containers[name]["command"] for name in APP_SERVICES}
    )
    cpu, gpu = _queues(commands["worker-cpu"]), _queues(commands["worker-gpu"])

    assert gpu == ["gpu"]
    assert "gpu" not in cpu
    assert sorted(cpu + gpu) == sorted(settings.CELERY_QUEUES)


def test_the_same_commands_run_in_compose_and_kubernetes(compose, k8s_containers):
    for name in APP_SERVICES | {"migrate"}:
        assert compose[name]["command"] == k8s_containers[name]["command"], name


def test_commands_name_modules_and_endpoints_that_exist(compose, k8s_containers):
    web = compose["web"]["command"]
    assert web[0] == "gunicorn"
    assert find_spec(web[1].split(":")[0]) is not None
    assert web[web.index("--bind") + 1] == f"0.0.0.0:{WEB_PORT}"
    for name in ("worker-cpu", "worker-gpu", "beat"):
        command = compose[name]["command"]
        assert command[:3] == ["celery", "-A", "assistant"], name
    assert find_spec("assistant.celery") is not None
    migrate = compose["migrate"]["command"]
    assert migrate[:2] == ["sh", "-c"]
    assert {"migrate", "grant_app_role"} <= set(get_commands())
    probes = k8s_containers["web"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert resolve(probes[probe]["httpGet"]["path"]).url_name in {"healthz", "readyz"}
        assert probes[probe]["httpGet"]["port"] == WEB_PORT


def test_app_services_share_one_image_and_gpu_workers_its_cuda_twin(compose, k8s_containers):
    for name in APP_SERVICES | {"migrate"}:
        expected = GPU_IMAGE if name == "worker-gpu" else IMAGE
        assert _image_name(compose[name]["image"]) == expected, name
        assert k8s_containers[name]["image"] == expected, name
        assert compose[name]["build"]["dockerfile"] == "deploy/Dockerfile", name
    assert "cu" in compose["worker-gpu"]["build"]["args"]["TORCH_INDEX_URL"].rsplit("/", 1)[-1]


def test_gpu_workers_reserve_a_gpu(compose, k8s_containers):
    devices = compose["worker-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    assert k8s_containers["worker-gpu"]["resources"]["limits"]["nvidia.com/gpu"] == 1
    for name in APP_SERVICES - {"worker-gpu"}:
        assert "deploy" not in compose[name], name
        assert "nvidia.com/gpu" not in k8s_containers[name].get("resources", {}).get("limits", {})


def test_beat_runs_exactly_once(k8s):
    beat = k8s[("Deployment", "beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert ("HorizontalPodAutoscaler", "beat") not in k8s


def test_configured_variables_are_ones_the_settings_declare(compose, k8s, k8s_secrets):
    declared = set(project_settings.env.declared)
    app_env = set(compose["web"]["environment"])
    configmap = set(k8s[("ConfigMap", "finassist")]["data"])
    secret = set(k8s_secrets["finassist"])

    assert app_env <= declared
    assert set(compose["migrate"]["environment"]) <= declared
    assert configmap <= declared
    assert secret <= declared
    assert set(k8s_secrets["finassist-owner"]) <= declared
    assert {"DATABASE_URL", "REDIS_URL", "FINASSIST_SECRET_KEY"} <= app_env
    assert {"DATABASE_URL", "FINASSIST_SECRET_KEY"} <= secret


def test_database_and_broker_urls_point_at_the_services(compose, k8s, k8s_secrets):
    app_env = compose["web"]["environment"]
    assert re.search(r"@db:5432/", app_env["DATABASE_URL"])
    assert re.search(r"@db:5432/", compose["migrate"]["environment"]["DATABASE_URL"])
    for name in ("finassist", "finassist-owner"):
        assert re.search(r"@db:5432/", k8s_secrets[name]["DATABASE_URL"]), name
    assert app_env["REDIS_URL"].startswith("redis://redis:6379/")
    assert k8s[("ConfigMap", "finassist")]["data"]["REDIS_URL"].startswith("redis://redis:6379/")
    assert k8s[("Service", "db")]["spec"]["ports"][0]["port"] == 5432
    assert k8s[("Service", "redis")]["spec"]["ports"][0]["port"] == 6379
    assert k8s[("Service", "web")]["spec"]["ports"][0]["targetPort"] == WEB_PORT


def test_only_the_migrate_job_connects_as_the_owner_and_every_other_service_as_the_app_role(
    compose, k8s_containers, k8s_secrets
):
    owner = compose["db"]["environment"]["POSTGRES_USER"]
    role = _granted_role(compose["migrate"]["command"])
    k8s_env = {name: _k8s_env(k8s_containers[name], k8s_secrets) for name in APP_SERVICES | {"migrate"}}

    assert role != owner
    assert {env["name"]: env.get("value") for env in k8s_containers["db"]["env"]}["POSTGRES_USER"] == owner
    assert _user(compose["migrate"]["environment"]["DATABASE_URL"]) == owner
    assert _user(k8s_env["migrate"][0]["DATABASE_URL"]) == owner
    for name in APP_SERVICES:
        assert _user(compose[name]["environment"]["DATABASE_URL"]) == role, name
        env, read = k8s_env[name]
        assert _user(env["DATABASE_URL"]) == role, name
        # Not even within reach: no secret such a pod reads holds the owner's URL.
        assert "finassist-owner" not in read, name
        assert all(
            _user(k8s_secrets[secret]["DATABASE_URL"]) != owner
            for secret in read
            if "DATABASE_URL" in k8s_secrets[secret]
        ), name
    assert "finassist-owner" in k8s_env["migrate"][1]


def test_the_database_makes_the_app_role_the_services_connect_as_with_their_password(
    compose, k8s, k8s_containers, k8s_secrets
):
    role = _granted_role(compose["migrate"]["command"])
    script = (DEPLOY / "db-init" / "app-role.sh").read_text()
    db = k8s_containers["db"]
    db_env = {env["name"]: env for env in db["env"]}

    assert f"CREATE ROLE {role} LOGIN PASSWORD :'password'" in script
    assert "./db-init:/docker-entrypoint-initdb.d:ro" in compose["db"]["volumes"]
    assert k8s[("ConfigMap", "db-init")]["data"] == {"app-role.sh": script}
    mount = next(m for m in db["volumeMounts"] if m["mountPath"] == "/docker-entrypoint-initdb.d")
    volumes = {v["name"]: v for v in k8s[("StatefulSet", "db")]["spec"]["template"]["spec"]["volumes"]}
    assert volumes[mount["name"]]["configMap"]["name"] == "db-init"
    # The password the role is made with is the one the services connect with.
    assert "${POSTGRES_APP_PASSWORD:?" in compose["db"]["environment"]["POSTGRES_APP_PASSWORD"]
    assert "${POSTGRES_APP_PASSWORD:?" in compose["web"]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in compose["migrate"]["environment"]["DATABASE_URL"]
    passwords = k8s_secrets["finassist-db"]
    secret = db_env["POSTGRES_APP_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert passwords[secret["key"]] == urlsplit(k8s_secrets["finassist"]["DATABASE_URL"]).password
    assert passwords["POSTGRES_PASSWORD"] == urlsplit(k8s_secrets["finassist-owner"]["DATABASE_URL"]).password


def test_images_run_postgres_with_pgvector_and_redis(compose, k8s_containers):
    assert compose["db"]["image"].startswith("pgvector/pgvector:pg18")
    assert k8s_containers["db"]["image"] == compose["db"]["image"]
    assert compose["redis"]["image"].startswith("redis:")
    assert k8s_containers["redis"]["image"] == compose["redis"]["image"]


def test_time_limits_and_grace_periods_agree(compose, k8s, k8s_containers):
    configmap = k8s[("ConfigMap", "finassist")]["data"]
    for source in (compose["web"]["environment"], configmap):
        soft = int(source["FINASSIST_CELERY_SOFT_TIME_LIMIT"])
        hard = int(source["FINASSIST_CELERY_TIME_LIMIT"])
        assert soft < hard < int(source["FINASSIST_CELERY_VISIBILITY_TIMEOUT"])
        for name in ("worker-cpu", "worker-gpu"):
            grace = k8s[("Deployment", name)]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
            assert grace > hard, name
            assert int(compose[name]["stop_grace_period"].rstrip("s")) > hard, name


def test_dockerfile_pins_torch_and_serves_like_compose(compose):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, flags=re.MULTILINE).group(1)

    assert "torch==2.13.0" in dockerfile
    assert "requirements.lock" in dockerfile
    assert f"EXPOSE {WEB_PORT}" in dockerfile
    assert yaml.safe_load(cmd) == compose["web"]["command"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git", ".env"} <= set(ignored)


def test_the_lock_pins_every_direct_dependency_at_its_pyproject_version():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["dev"]
    lock = {
        name.lower(): version
        for name, version in (line.split("==") for line in (ROOT / "requirements.lock").read_text().split())
    }
    for requirement in direct:
        name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[.*\])?==(.+)", requirement).groups()
        if name == "torch":
            continue  # installed first from the exact pin, never from the lock
        assert lock.get(name.lower()) == version, requirement
    assert "torch" not in lock


def test_deploy_docs_cover_each_piece():
    text = (ROOT / "docs" / "deploy.md").read_text()
    for piece in sorted(ALL_SERVICES | {"migrate"}):
        assert f"`{piece}`" in text, piece
    assert "docker compose -f deploy/compose.yaml" in text
    assert "kubectl apply -k deploy/k8s" in text
