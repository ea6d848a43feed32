# The single entry point. `make run` serves the demo portal; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export DJANGO_SETTINGS_MODULE ?= portal.settings.dev

.PHONY: help setup prepare run oidc-provider test test-fast test-python lint format bench clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: prepare var/.migrated ## Install everything, build assets, migrate the local database

# What the tests need: they make their own databases, so a test run does not
# wait for the local one to be migrated (about 30 s on a fresh clone).
prepare: $(VENV)/.installed static/build/.built
	@mkdir -p var

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/build/.built: node_modules/.installed static/build.mjs $(shell find static/scss -name '*.scss')
	npm run --silent build
	touch $@

var/.migrated: $(VENV)/.installed $(shell find . -path ./node_modules -prune -o -path ./$(VENV) -prune -o -path '*/migrations/*.py' -print)
	mkdir -p var
	$(PY) manage.py migrate --no-input -v0
	touch $@

# dev_server is runserver plus virus scanning: with ClamAV installed it starts a
# local clamd that knows the EICAR test file (documents/local_clamd.py).
run: setup ## Set up, load the demo partnership and serve http://127.0.0.1:8000
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Serving the portal on http://127.0.0.1:8000 - sign in with a username and password above,"
	@echo "then a code from your authenticator app, a backup code, or: $(PY) manage.py demo_code USERNAME"
	DJANGO_OIDC_SECRET_DEMO=portal-secret $(PY) manage.py dev_server 127.0.0.1:8000

# Victim Support's staff sign in through this provider in the demo (docs/security.md).
oidc-provider: ## Serve the demo's OpenID provider on http://127.0.0.1:8765 (beside make run)
	$(PY) -m tests.oidc_provider.serve --port 8765 --redirect-uri http://127.0.0.1:8000/sign-in/agency-callback/

# pytest-xdist runs the tests in one process per core, each with its own test
# database; --dist loadgroup keeps a module that loads the demo once on one
# process (tests/conftest.py). PYTEST_WORKERS=0 runs them in this process.
# PYTHONDONTWRITEBYTECODE, if the shell sets it, is lifted for the tests: without
# cached bytecode each process compiles every module and pytest rewrites every
# test file's asserts again, about 4 s of CPU a process (__pycache__ is ignored).
PYTEST_WORKERS ?= auto
PYTEST := PYTHONDONTWRITEBYTECODE= DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: prepare lint test-python ## Set up and run every check and test

test-fast: prepare ## The quick loop: no browser, no PDF rendering, no whole-portal walks
	$(PYTEST) -m "not slow and not browser and not sweep" $(PYTEST_ARGS)

test-python:
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py check --fail-level WARNING
	DJANGO_SETTINGS_MODULE=portal.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(PYTEST) $(PYTEST_ARGS)

bench: setup ## Load 20,000 referrals into PostgreSQL and measure pages (needs wrk)
	$(PY) bench/run.py $(BENCH_ARGS)
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench $(PY) bench/audit_throughput.py
	$(PY) bench/two_servers.py

lint: $(VENV)/.installed ## Lint with ruff; check the dependency map (.importlinter)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed ## Format and fix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean: ## Remove the virtualenv, built assets and local data
	rm -rf $(VENV) node_modules static/build var db.sqlite3
