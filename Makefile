# Quick start: `make plan` (offline plan of the dev stack) and `make test` (the whole suite).
# Both create .venv from the pinned requirements on first use (about 1-3 minutes, shown as
# pip works); afterwards run the tools from it: .venv/bin/fleetctl, .venv/bin/pytest.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup plan test lint typecheck bench

$(STAMP): requirements.txt pyproject.toml policy/requirements.txt
	@echo "==> creating $(VENV) and installing the pinned requirements (first run only)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar on --upgrade pip
	$(PY) -m pip install --progress-bar on -r requirements.txt -r policy/requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)
	@echo "==> $(VENV) ready: run .venv/bin/fleetctl ... (or: source .venv/bin/activate)"

setup: $(STAMP)

plan: setup
	@echo "==> .venv/bin/fleetctl plan --stack dev"
	$(VENV)/bin/fleetctl plan --stack dev

lint: setup
	@echo "==> ruff check ."
	$(VENV)/bin/ruff check .

typecheck: setup
	@echo "==> mypy (about 45 s cold, fast with its cache)"
	$(VENV)/bin/mypy

test: lint typecheck
	@echo "==> pytest (a dot per test)"
	$(VENV)/bin/pytest

bench: setup
	$(PY) benchmarks/plan_bench.py
	$(PY) benchmarks/policy_bench.py
	$(PY) benchmarks/check_bench.py
	$(PY) benchmarks/report_bench.py
