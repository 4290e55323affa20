# Quick start: `make plan` (offline plan of the dev stack) and `make test` (the whole suite).
# Both create .venv from the pinned requirements on first use.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup plan test lint typecheck bench

$(STAMP): requirements.txt pyproject.toml policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r policy/requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

plan: setup
	$(VENV)/bin/fleetctl plan --stack dev

lint: setup
	$(VENV)/bin/ruff check .

typecheck: setup
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest

bench: setup
	$(PY) benchmarks/plan_bench.py
	$(PY) benchmarks/policy_bench.py
	$(PY) benchmarks/check_bench.py
