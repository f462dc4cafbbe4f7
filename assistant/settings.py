"""Django settings, every value read and validated from the environment (see assistant.env).

`DATABASE_URL` and `REDIS_URL` keep their conventional names; every other variable starts
with `FINASSIST_`. `.env.example` lists them all.
"""

import hashlib
from pathlib import Path

from kombu import Exchange, Queue

from assistant import env as envmod

BASE_DIR = Path(__file__).resolve().parent.parent

env = envmod.load(BASE_DIR)

ENVIRONMENT = env.choice(
    "FINASSIST_ENVIRONMENT",
    "development",
    "development or production; production requires a secret key and allowed hosts",
    choices=("development", "production"),
)
PRODUCTION = ENVIRONMENT == "production"

SECRET_KEY = env.required(
    "FINASSIST_SECRET_KEY",
    "Django secret key (required in production; a fixed insecure key serves development)",
    when=PRODUCTION,
    because="in production",
    fallback="django-insecure-finassist-development-only",
)
DEBUG = env.boolean("FINASSIST_DEBUG", False, "show tracebacks in the browser (never in production)")
ALLOWED_HOSTS = env.csv(
    "FINASSIST_ALLOWED_HOSTS",
    "" if PRODUCTION else "localhost,127.0.0.1,[::1]",
    "comma-separated host names this site answers to (required in production)",
)
if PRODUCTION and DEBUG:
    env.errors.append("FINASSIST_DEBUG must be false in production")
if PRODUCTION and not ALLOWED_HOSTS:
    env.errors.append("FINASSIST_ALLOWED_HOSTS is required in production")
CSRF_TRUSTED_ORIGINS = env.csv(
    "FINASSIST_CSRF_TRUSTED_ORIGINS",
    "",
    "comma-separated origins (https://host) trusted for form posts behind a proxy",
)
DATA_DIR = env.path(
    "FINASSIST_DATA_DIR",
    Path("var"),
    "local state: embedded database, model artefacts, uploads (relative to the project)",
    base=BASE_DIR,
)
STATIC_ROOT = env.path(
    "FINASSIST_STATIC_ROOT",
    DATA_DIR / "static",
    "where collectstatic puts static files (images set it outside the data volume)",
    base=BASE_DIR,
)
LOG_LEVEL = env.choice(
    "FINASSIST_LOG_LEVEL",
    "INFO",
    "log level of the finassist loggers",
    choices=("DEBUG", "INFO", "WARNING", "ERROR"),
)

# Database --------------------------------------------------------------------------------
_external_database = env.optional(
    "DATABASE_URL",
    "PostgreSQL with pgvector, postgresql://USER:PASSWORD@HOST:PORT/NAME; unset: embedded server",
    envmod.database_from_url,
)
CONN_MAX_AGE = env.integer(
    "FINASSIST_DB_CONN_MAX_AGE", 60, "seconds a database connection is reused", minimum=0
)
_database = _external_database or {
    "ENGINE": "assistant.db.backends.embedded",
    "NAME": "finassist",
    "EMBEDDED_DATA_DIR": str(DATA_DIR / "pgdata"),
    "EMBEDDED_DATABASE": "finassist",
}
DATABASES = {
    "default": {**_database, "CONN_MAX_AGE": CONN_MAX_AGE, "CONN_HEALTH_CHECKS": True},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery ------------------------------------------------------------------------------------
REDIS_URL = env.url(
    "REDIS_URL",
    "redis://127.0.0.1:6379/0",
    "Celery broker and result backend (redis://, or amqp:// for RabbitMQ as the broker)",
    schemes=("redis", "rediss", "amqp", "amqps"),
)
CELERY_QUEUES = ("default", "ingest", "inference", "gpu")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL if REDIS_URL.startswith("redis") else "rpc://"
CELERY_TASK_ALWAYS_EAGER = env.boolean(
    "FINASSIST_CELERY_EAGER",
    False,
    "run tasks in the calling process instead of a worker (make run sets it when no broker answers)",
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# One direct exchange and routing key per queue: without them, every queue binds the
# default key and a task sent to one queue is delivered to all of them.
CELERY_TASK_QUEUES = tuple(Queue(name, Exchange(name), routing_key=name) for name in CELERY_QUEUES)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Routing by task name, in one place: each area's tasks go to the workers sized for them.
CELERY_TASK_ROUTES = {
    "knowledge.*": {"queue": "ingest"},
    "training.train": {"queue": "gpu"},
    "training.fit": {"queue": "inference"},
    "training.predict": {"queue": "inference"},
    "training.version_prepare": {"queue": "inference"},
    "claims.*": {"queue": "inference"},
    "aml.*": {"queue": "inference"},
    "lab.train": {"queue": "gpu"},
    "lab.*": {"queue": "inference"},
}
CELERY_TASK_DEFAULT_EXCHANGE = "default"
CELERY_TASK_DEFAULT_ROUTING_KEY = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TRACK_STARTED = True
# Celery's Django fixup closes database connections around every task unless this is set
# (a reconnect per task); assistant.celery recycles them the Django way instead.
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TASK_SOFT_TIME_LIMIT = env.integer(
    "FINASSIST_CELERY_SOFT_TIME_LIMIT",
    300,
    "seconds before a task is asked to stop (tasks that need longer declare their own)",
    minimum=1,
)
CELERY_TASK_TIME_LIMIT = env.integer(
    "FINASSIST_CELERY_TIME_LIMIT",
    360,
    "seconds before a task's worker process is killed; must exceed the soft limit",
    minimum=1,
)
CELERY_VISIBILITY_TIMEOUT = env.integer(
    "FINASSIST_CELERY_VISIBILITY_TIMEOUT",
    7200,
    "seconds before Redis hands an unacknowledged task (its worker died) to another worker",
    minimum=1,
)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    env.errors.append("FINASSIST_CELERY_TIME_LIMIT must be greater than FINASSIST_CELERY_SOFT_TIME_LIMIT")
if CELERY_VISIBILITY_TIMEOUT <= CELERY_TASK_TIME_LIMIT:
    # Otherwise Redis would hand a task that is still running to a second worker.
    env.errors.append("FINASSIST_CELERY_VISIBILITY_TIMEOUT must be greater than FINASSIST_CELERY_TIME_LIMIT")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "core-send-unsent": {
        "task": "core.send_unsent",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "knowledge-lexicon-refresh": {
        "task": "knowledge.lexicon_refresh",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "training-drift-audit": {
        "task": "training.drift_audit",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "integrations-deliveries-due": {
        "task": "integrations.deliveries_due",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
    "claims-requeue-stale": {
        "task": "claims.requeue_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "knowledge-requeue-stale": {
        "task": "knowledge.requeue_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "training-requeue-stale": {
        "task": "training.requeue_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "lab-requeue-stale": {
        "task": "lab.requeue_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "aml-audit-checkpoint": {
        "task": "aml.audit_checkpoint",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "aml-requeue-stale": {
        "task": "aml.requeue_stale",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

READINESS_TIMEOUT = env.number(
    "FINASSIST_READINESS_TIMEOUT",
    2.0,
    "seconds /readyz waits for each dependency before reporting it down",
    minimum=0.1,
)

# Models (embedding, fine-tuning, classification) ------------------------------------------------
TORCH_DTYPE = env.choice(
    "FINASSIST_TORCH_DTYPE",
    "auto",
    "precision of model arithmetic: auto (bfloat16 on a GPU or where the processor computes it "
    "natively, else float32), float32 or bfloat16",
    choices=("auto", "float32", "bfloat16"),
)
TORCH_THREADS = env.integer(
    "FINASSIST_TORCH_THREADS", 0, "threads torch uses per process on the CPU (0: one per core)", minimum=0
)

# Knowledge base --------------------------------------------------------------------------------
EMBEDDING_MODEL = env.string(
    "FINASSIST_EMBEDDING_MODEL",
    "all-MiniLM-L6-v2",
    "embedding model for new collections: all-MiniLM-L6-v2 (bundled, English), multilingual-e5-small "
    "(bundled, Chinese and English) or a local Hugging Face model path",
)
EMBEDDING_BATCH_SIZE = env.integer(
    "FINASSIST_EMBEDDING_BATCH_SIZE", 16, "texts embedded per forward pass", minimum=1
)
CHUNK_TOKENS = env.integer(
    "FINASSIST_CHUNK_TOKENS",
    256,
    "most tokens in a chunk as embedded, headings included (the model's input limit caps it)",
    minimum=32,
)
CHUNK_OVERLAP = env.integer(
    "FINASSIST_CHUNK_OVERLAP", 32, "tokens a chunk repeats from the end of the one before", minimum=0
)
if CHUNK_OVERLAP >= CHUNK_TOKENS // 2:
    env.errors.append("FINASSIST_CHUNK_OVERLAP must be less than half of FINASSIST_CHUNK_TOKENS")
INGEST_REQUEUE_AFTER_S = env.integer(
    "FINASSIST_INGEST_REQUEUE_AFTER",
    600,
    "seconds a document may go without indexing progress before the periodic sweep sends it again",
    minimum=60,
)
UPLOAD_MAX_BYTES = env.integer(
    "FINASSIST_UPLOAD_MAX_BYTES", 25 * 1024 * 1024, "largest file accepted for ingestion, in bytes", minimum=1
)
PARSE_MAX_EXPANDED_BYTES = env.integer(
    "FINASSIST_PARSE_MAX_EXPANDED_BYTES",
    32 * 1024 * 1024,
    "most bytes a file may expand to while parsed (the XML inside a DOCX, a PDF's decompressed streams)",
    minimum=1,
)
PARSE_MAX_PAGES = env.integer("FINASSIST_PARSE_MAX_PAGES", 2000, "most pages of a PDF", minimum=1)
PARSE_MAX_BLOCKS = env.integer(
    "FINASSIST_PARSE_MAX_BLOCKS",
    20000,
    "most paragraphs, table rows or FAQ answers parsed from a file",
    minimum=1,
)
PARSE_MAX_SECONDS = env.number(
    "FINASSIST_PARSE_MAX_SECONDS", 120.0, "longest a DOCX or PDF may take to parse", minimum=0.01
)
PARSE_MAX_MEMORY_MB = env.integer(
    "FINASSIST_PARSE_MAX_MEMORY_MB",
    1024,
    "most memory the process parsing a DOCX or PDF may take",
    minimum=64,
)
DATASETS_DIR = env.path(
    "FINASSIST_DATASETS_DIR",
    Path("../shared/data"),
    "folder of the public datasets that load_dataset reads (relative to the project)",
    base=BASE_DIR,
)
SEARCH_EF = env.integer(
    "FINASSIST_SEARCH_EF",
    100,
    "HNSW ef_search (candidates the vector index visits per query) for collections of up to 100,000 "
    "chunks; it grows with the logarithm of a larger collection's size (twice at a million)",
    minimum=1,
)
SEARCH_CANDIDATES = env.integer(
    "FINASSIST_SEARCH_CANDIDATES",
    20,
    "candidates each of vector and full-text search hands to fusion",
    minimum=1,
)
# Fusion defaults chosen on the validation half of the Ask CFPB questions (docs/retrieval.md).
SEARCH_FUSION = env.choice(
    "FINASSIST_SEARCH_FUSION",
    "weighted",
    "how vector and full-text candidates combine: weighted (similarity plus the weighted share of "
    "the best BM25 score) or rrf (weighted reciprocal ranks)",
    choices=("weighted", "rrf"),
)
SEARCH_LEXICAL_WEIGHT = env.number(
    "FINASSIST_SEARCH_LEXICAL_WEIGHT",
    0.15,
    "weight of full text against vectors (1.0) in the fusion; 0 turns full text off",
)
SEARCH_LEXICAL_BUDGET = env.integer(
    "FINASSIST_SEARCH_LEXICAL_BUDGET",
    100,
    "chunks full-text search may rank per query: it matches on the rarest query words within this",
    minimum=1,
)
SEARCH_RRF_K = env.integer(
    "FINASSIST_SEARCH_RRF_K",
    2,
    "reciprocal-rank fusion constant (FINASSIST_SEARCH_FUSION=rrf): larger flattens rank differences",
    minimum=1,
)
SEARCH_RERANKER = env.string(
    "FINASSIST_SEARCH_RERANKER",
    "assistant.knowledge.search.NoReranker",
    "dotted path of the reranker applied to fused results (a cross-encoder can plug in here)",
)

# Fine-tuning and classification ----------------------------------------------------------------
MODELS_DIR = env.path(
    "FINASSIST_MODELS_DIR",
    DATA_DIR / "models",
    "where trained models are stored; every worker that serves them must see the same folder",
    base=BASE_DIR,
)
TRAINING_BASE_MODEL = env.string(
    "FINASSIST_TRAINING_BASE_MODEL",
    "all-MiniLM-L6-v2",
    "encoder that classifiers are fine-tuned from: all-MiniLM-L6-v2 (bundled) or a local model path",
)
# How fast one party may ask (assistant.core.throttle); each refusal a 429 with Retry-After.
LOGIN_FAILURES = env.integer(
    "FINASSIST_LOGIN_FAILURES",
    5,
    "wrong passwords for one user name (four times as many from one address) before signing in is "
    "refused, the right password too, until the lockout ends",
    minimum=1,
)
LOGIN_LOCKOUT_S = env.integer(
    "FINASSIST_LOGIN_LOCKOUT", 900, "seconds the failures are counted over, and a lockout lasts", minimum=1
)
API_RATE = env.rate(
    "FINASSIST_API_RATE", "1200/minute", "API calls one API key, token or person (or address) may make"
)
CHAT_START_RATE = env.rate(
    "FINASSIST_CHAT_START_RATE", "20/minute", "new chat conversations one address may start"
)
# A request body (other than the files of a multipart upload) over this gets a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.integer(
    "FINASSIST_MAX_BODY_BYTES",
    10 * 1024 * 1024,
    "largest request body the site reads (JSON, a form's fields), in bytes; larger gets a 413",
    minimum=1024,
)
TRAINING_REQUEUE_AFTER_S = env.integer(
    "FINASSIST_TRAINING_REQUEUE_AFTER",
    900,
    "seconds a running fit or lab study arm may go without progress before the periodic sweep "
    "sends it again (its worker died)",
    minimum=60,
)
TASK_FILE_MAX_BYTES = env.integer(
    "FINASSIST_TASK_FILE_MAX_BYTES",
    50 * 1024 * 1024,
    "largest file of labelled examples a task can be created from, in bytes",
    minimum=1,
)
ABSTAIN_PRECISION = env.number(
    "FINASSIST_ABSTAIN_PRECISION",
    0.95,
    "precision a model must keep on the predictions it makes; below its threshold it abstains",
)
if not 0 < ABSTAIN_PRECISION <= 1:
    env.errors.append("FINASSIST_ABSTAIN_PRECISION must be above 0 and at most 1")
DRIFT_PSI_THRESHOLD = env.number(
    "FINASSIST_DRIFT_PSI_THRESHOLD",
    0.25,
    "population stability index above which a drift audit raises an alert (0.1-0.25 is moderate shift)",
)
DRIFT_WINDOW_HOURS = env.integer(
    "FINASSIST_DRIFT_WINDOW_HOURS", 24, "hours of live predictions each drift audit compares", minimum=1
)
DRIFT_MIN_SAMPLES = env.integer(
    "FINASSIST_DRIFT_MIN_SAMPLES",
    200,
    "fewest live predictions a drift audit judges; with fewer it reports too little data",
    minimum=1,
)

# Answer generation -----------------------------------------------------------------------------
GENERATION_BACKENDS = ("extractive", "openai", "transformers")
GENERATION_BACKEND = env.choice(
    "FINASSIST_GENERATION_BACKEND",
    "extractive",
    "extractive (offline: cited sentences of the retrieved text), openai (any OpenAI-compatible "
    "server) or transformers (a local causal model)",
    choices=GENERATION_BACKENDS,
)
GENERATION_MIN_RELEVANCE = env.number(
    "FINASSIST_GENERATION_MIN_RELEVANCE",
    0.3,
    "cosine similarity the best retrieved passage must reach; below it the answer says the "
    "knowledge base does not answer",
)
GENERATION_MAX_TOKENS = env.integer(
    "FINASSIST_GENERATION_MAX_TOKENS", 400, "most tokens a language model generates for one answer", minimum=1
)
GENERATION_TIMEOUT = env.number(
    "FINASSIST_GENERATION_TIMEOUT",
    30.0,
    "seconds to wait for a generation server to connect or send the next part of an answer",
    minimum=0.1,
)
GENERATION_MAX_SECONDS = env.number(
    "FINASSIST_GENERATION_MAX_SECONDS",
    120.0,
    "longest an answer backend may take for one answer, first token to last; past it the answer fails",
    minimum=1.0,
)
GENERATION_RETRIES = env.integer(
    "FINASSIST_GENERATION_RETRIES",
    2,
    "retries, with backoff, of a generation request that failed before its first token",
    minimum=0,
)
GENERATION_MASK_IDENTIFIERS = env.boolean(
    "FINASSIST_GENERATION_MASK_IDENTIFIERS",
    True,
    "replace client names, numbers and contact details by placeholders in prompts sent to a remote model",
)
OPENAI_BASE_URL = env.url(
    "FINASSIST_OPENAI_BASE_URL",
    "http://127.0.0.1:8001/v1",
    "base URL of the OpenAI-compatible server (vLLM, Ollama, TGI or a hosted API), up to /v1",
    schemes=("http", "https"),
)
OPENAI_MODEL = env.string(
    "FINASSIST_OPENAI_MODEL", "", "model name the OpenAI-compatible server is asked for"
)
OPENAI_API_KEY = env.string("FINASSIST_OPENAI_API_KEY", "", "API key sent as a bearer token (empty: none)")
GENERATION_MODEL = env.string(
    "FINASSIST_GENERATION_MODEL",
    "",
    "local Hugging Face causal language model directory for the transformers backend, or smollm2 "
    "(the bundled SmolLM2-135M-Instruct)",
)
GENERATION_ADAPTER = env.string(
    "FINASSIST_GENERATION_ADAPTER",
    "",
    "LoRA adapter for the transformers backend: a local directory or registry:<model version id> "
    "(empty: none)",
)
QUESTION_MAX_CHARS = env.integer(
    "FINASSIST_QUESTION_MAX_CHARS", 2000, "longest question an advisor may ask", minimum=1
)

# Customer-service chat ---------------------------------------------------------------------------
CHAT_COLLECTIONS = env.csv(
    "FINASSIST_CHAT_COLLECTIONS",
    "faq,faq-zh,ask-cfpb",
    "collections the chatbot answers from (those that exist and whose model reads the message's "
    "language are searched)",
)
CHAT_MESSAGE_MAX_CHARS = env.integer(
    "FINASSIST_CHAT_MESSAGE_MAX_CHARS", 1000, "longest message a customer may send", minimum=1
)
CHAT_CONTEXT_TURNS = env.integer(
    "FINASSIST_CHAT_CONTEXT_TURNS",
    2,
    "earlier customer messages that join the retrieval query, so follow-up questions work",
    minimum=0,
)

# Integrations (API keys, webhooks) ------------------------------------------------------------
_webhook_delays = env.csv(
    "FINASSIST_WEBHOOK_RETRY_DELAYS",
    "5,300,1800,7200,18000,36000",
    "seconds between a failed webhook attempt and the next, one per retry",
)
WEBHOOK_RETRY_DELAYS = [int(value) for value in _webhook_delays if value.isdigit()]
if len(WEBHOOK_RETRY_DELAYS) != len(_webhook_delays):
    env.errors.append("FINASSIST_WEBHOOK_RETRY_DELAYS must be whole seconds separated by commas")
WEBHOOK_TIMEOUT_S = env.number(
    "FINASSIST_WEBHOOK_TIMEOUT", 10.0, "seconds a webhook receiver has to answer", minimum=0.1
)

# Claims --------------------------------------------------------------------------------------
CLAIMS_BATCH_MAX = env.integer("FINASSIST_CLAIMS_BATCH_MAX", 100, "most claims in one batch call", minimum=1)
CLAIMS_DESCRIPTION_MAX_CHARS = env.integer(
    "FINASSIST_CLAIMS_DESCRIPTION_MAX_CHARS", 10_000, "longest claim description, in characters", minimum=1
)
CLAIMS_INVESTIGATION_THRESHOLD = env.number(
    "FINASSIST_CLAIMS_INVESTIGATION_THRESHOLD",
    0.5,
    "fraud-risk score from which a claim goes to special investigation, whatever its route",
)
CLAIMS_REQUEUE_AFTER_S = env.integer(
    "FINASSIST_CLAIMS_REQUEUE_AFTER",
    120,
    "seconds a claim may wait for triage before the periodic sweep sends it again",
    minimum=1,
)

# AML -----------------------------------------------------------------------------------------
AML_ALERT_THRESHOLD = env.number(
    "FINASSIST_AML_ALERT_THRESHOLD", 0.5, "combined risk from which a screening raises an alert"
)
AML_BATCH_MAX = env.integer(
    "FINASSIST_AML_BATCH_MAX", 1000, "most transactions in one batch screening call", minimum=1
)
AML_BATCH_REQUEUE_AFTER_S = env.integer(
    "FINASSIST_AML_BATCH_REQUEUE_AFTER",
    120,
    "seconds a batch may wait or go without progress before the periodic sweep resumes it",
    minimum=1,
)
AUDIT_KEY = (
    env.string(
        "FINASSIST_AUDIT_KEY",
        "",
        "secret the audit trail's MACs and checkpoints are made with; keep it out of the database's reach "
        "(empty: derived from FINASSIST_SECRET_KEY)",
    )
    or hashlib.sha256(f"finassist-audit:{SECRET_KEY}".encode()).hexdigest()
)
AUDIT_CHECKPOINTS = env.path(
    "FINASSIST_AUDIT_CHECKPOINTS",
    DATA_DIR / "audit" / "checkpoints.jsonl",
    "file the audit trail's signed checkpoints are appended to: somewhere the database's owner "
    "cannot rewrite (another volume, a write-once store)",
    base=BASE_DIR,
)
AML_DOCUMENT_MAX_CHARS = env.integer(
    "FINASSIST_AML_DOCUMENT_MAX_CHARS",
    100_000,
    "longest customer document screened, in characters",
    minimum=1,
)
AML_COLLECTIONS = env.csv(
    "FINASSIST_AML_COLLECTIONS",
    "fincen,aml-guidance",
    "collections analysts' questions and SAR drafts cite (those that exist are searched)",
)

# Demo ----------------------------------------------------------------------------------------
DEMO_PASSWORD = env.string(
    "FINASSIST_DEMO_PASSWORD",
    "finassist-demo",
    "password of the demo users that `manage.py create_demo_users` makes (refused in production)",
)

env.check()

# Django ----------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # its migrations only: its tokens became hashed personal tokens
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "assistant.core",
    "assistant.knowledge",
    "assistant.training",
    "assistant.chat",
    "assistant.integrations",
    "advisory",
    "claims",
    "aml",
    "lab",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "assistant.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "assistant.core.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "assistant.core.middleware.StorableInputMiddleware",
    "assistant.core.throttle.ThrottleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

AUTHENTICATION_BACKENDS = ["assistant.core.backends.PermissionsBackend"]

# Shared by every web process (throttle counts): Redis where the broker is Redis (an atomic
# increment a count, no SQL and no commit on each request), else the database's table (a core
# migration creates it).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "finassist",
        }
        if REDIS_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "finassist_cache"}
    )
}

ROOT_URLCONF = "assistant.urls"
WSGI_APPLICATION = "assistant.wsgi.application"
ASGI_APPLICATION = "assistant.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of Django's own templates (the admin's frame); apps keep theirs.
        "DIRS": [BASE_DIR / "assistant" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assistant.core.context.sections",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"

LANGUAGE_CODE = "en"
# The pages speak the browser's language (Accept-Language) or the one chosen in the header; the API
# speaks English whatever the client asks.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["assistant.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: an API client without credentials gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "assistant.integrations.keys.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON the database can store (no NUL, no lone surrogates, not nested too deep): a 400 per field.
    "DEFAULT_PARSER_CLASSES": [
        "assistant.core.api.StorableJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["assistant.core.throttle.ClientThrottle"],
    "DEFAULT_SCHEMA_CLASS": "assistant.core.schema.ErrorsAutoSchema",
    "EXCEPTION_HANDLER": "assistant.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "finassist API",
    "DESCRIPTION": "Language models on finance workflows: retrieval, fine-tuned classifiers, claims and AML.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Integrating systems read the schema with their API key.
    "SERVE_AUTHENTICATION": [
        "assistant.integrations.keys.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "assistant.integrations.keys.ApiKeyAuthentication",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

if PRODUCTION:
    # TLS ends at the ingress or load balancer, which sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # HSTS preload binds the whole domain to HTTPS in browsers for good: the operator's call.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"},
    },
    "filters": {"mask_identifiers": {"()": "assistant.core.privacy.MaskingFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_identifiers"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"finassist": {"level": LOG_LEVEL, "handlers": ["console"], "propagate": False}},
}
