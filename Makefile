# contactpoint: `make demo` runs the service on SQLite with a synthetic population;
# `make test` runs the tests. Both do all their own set-up.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
DEMO_CHILDREN ?= 20000
DEMO_FEEDS := var/demo-feeds
# The port `make demo` serves on: `make demo PORT=8123`.
PORT ?= 8000
# Test processes (pytest-xdist); each has its own databases and data directory.
TEST_WORKERS ?= auto
export CONTACTPOINT_DATA_DIR ?= $(CURDIR)/var

.DEFAULT_GOAL := help
.PHONY: help setup demo demo-data demo-check test test-postgres lint format bench bench-capacity clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "contactpoint needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed ## create the virtual environment and install everything

demo-data: setup ## what `make demo` does before it serves: keys, ~20,000 children, demo users, yesterday's activity
	CONTACTPOINT_ENV=development $(BIN)/contactpoint init
	@test -f $(DEMO_FEEDS)/manifest.json || \
		CONTACTPOINT_ENV=development $(BIN)/contactpoint synth --children $(DEMO_CHILDREN) --seed 1 --out $(DEMO_FEEDS)
	CONTACTPOINT_ENV=development $(BIN)/contactpoint load --bulk $(DEMO_FEEDS)
	CONTACTPOINT_ENV=development CONTACTPOINT_BASE_URL=http://localhost:$(PORT) $(BIN)/contactpoint demo-users
	CONTACTPOINT_ENV=development $(BIN)/contactpoint demo-activity

demo: demo-data ## run the service on SQLite with about 20,000 synthetic children (PORT=8000)
	@echo
	@echo "contactpoint is starting at http://localhost:$(PORT) (Ctrl-C stops it). Use that address:"
	@echo "browsers keep its secure session cookies over plain http from localhost only."
	@echo "Sign in as a demo user: the throw-away credentials are in var/demo/demo-users.txt."
	@echo "The demo privacy officer has yesterday's misuse alert at http://localhost:$(PORT)/oversight."
	@echo "Next: CONTACTPOINT_ENV=development $(BIN)/contactpoint quarantine list"
	@echo "      CONTACTPOINT_ENV=development $(BIN)/contactpoint review list"
	@echo "      CONTACTPOINT_ENV=development $(BIN)/contactpoint linkage evaluate --truth $(DEMO_FEEDS)/truth"
	@echo "      CONTACTPOINT_ENV=development $(BIN)/contactpoint keys status"
	@echo "      CONTACTPOINT_ENV=development $(BIN)/contactpoint backup --out var/backup.jsonl.gz"
	@echo
	CONTACTPOINT_ENV=development CONTACTPOINT_BASE_URL=http://localhost:$(PORT) $(BIN)/contactpoint serve --bind 127.0.0.1:$(PORT)

demo-check: ## build the demo as `make demo` does, serve it, check it answers (CI runs this)
	.ci/demo-check

test: setup ## run the test suite (SQLite; set DATABASE_URL for PostgreSQL)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-postgres: setup ## run the test suite on PostgreSQL at 127.0.0.1:5432
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/contactpoint \
	CONTACTPOINT_KEYSTORE_URL=postgres://postgres@127.0.0.1:5432/contactpoint_keys \
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: setup ## ruff, the layer order (import-linter) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy contactpoint tests benchmarks

format: setup ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup ## run the benchmarks (about an hour; see docs/benchmarks.md)
	$(BIN)/python benchmarks/bench_synth.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_linkage.py
	$(BIN)/python benchmarks/bench_realtime.py
	$(BIN)/python benchmarks/bench_search.py
	$(BIN)/python benchmarks/linkage_independent.py
	$(BIN)/python benchmarks/registry_size.py

# Locust for `make bench-capacity`, in a virtual environment of its own (not in `make setup`).
CAPACITY_VENV := .venv-capacity
$(CAPACITY_VENV)/.installed: benchmarks/capacity/requirements.lock $(VENV)/.installed
	$(PYTHON) -m venv $(CAPACITY_VENV)
	$(BIN)/uv pip sync --quiet --python $(CAPACITY_VENV)/bin/python benchmarks/capacity/requirements.lock
	@touch $@

bench-capacity: setup $(CAPACITY_VENV)/.installed ## capacity through HTTP with Locust, on PostgreSQL (CAPACITY_ARGS=...; docs/benchmarks.md)
	$(BIN)/python benchmarks/capacity/run.py $(CAPACITY_ARGS)

clean: ## remove the virtual environment, front-end packages and var/
	rm -rf $(VENV) $(CAPACITY_VENV) node_modules var
