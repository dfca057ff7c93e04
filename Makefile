# Priyom: install, run, test and ship every service from one virtual environment.
#   make up     the whole stack on this machine (honcho), with demo data
#   make test   every test suite against the real RabbitMQ and PostgreSQL
# VENV=.venv-other picks another virtual environment; PYTHON=python3.12 another interpreter for it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.priyom-installed
PYTEST_ARGS ?=
BENCH_ARGS ?=
export VENV

# Every package installed (editable) into the one environment: the two libraries, the test support that the
# tests and bench/ import (never a service's dependency), then each service that has a pyproject.toml. A
# service appearing, or any pyproject.toml changing, triggers a re-install.
PACKAGES := packages/contracts packages/kit packages/testing \
	$(patsubst %/pyproject.toml,%,$(sort $(wildcard services/*/pyproject.toml)))
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: help install up test bench bench-email bench-popup docs train-router clean distclean FORCE

help:
	@echo "make up         install, start RabbitMQ if needed, migrate, run every service under honcho"
	@echo "make test       install, make sure RabbitMQ and PostgreSQL answer, run pytest (PYTEST_ARGS=...)"
	@echo "make bench      end-to-end benchmark, bench/e2e.py (BENCH_ARGS=...)"
	@echo "make bench-email  e-mail throughput, IMAP and SMTP to stored ticket, bench/email.py (BENCH_ARGS=...)"
	@echo "make bench-popup  caller pop-up latency, AMI event to agent WebSocket, bench/popup.py (BENCH_ARGS=...)"
	@echo "make docs       regenerate docs/asyncapi.json and docs/schemas/"
	@echo "make train-router  train the router's classifier, print its held-out accuracy (CORPUS=...)"
	@echo "make install    create $(VENV) and install every package editable (only when something changed)"
	@echo "make clean      remove caches and build output; make distclean also removes $(VENV) and var/"

install: $(STAMP)

# The stamp holds the list of installed packages: a different list (a new service) forces a re-install.
ifneq ($(shell cat $(STAMP) 2>/dev/null),$(strip $(PACKAGES)))
$(STAMP): FORCE
endif

$(STAMP): $(PYPROJECTS) requirements-dev.txt
	@if [ ! -x $(BIN)/python ]; then \
	  echo "creating $(VENV) with $(PYTHON)"; \
	  $(PYTHON) -m venv $(VENV) || { echo "'$(PYTHON) -m venv' failed: on Debian/Ubuntu run 'apt-get install -y python3-venv'" >&2; exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt
	@echo "$(PACKAGES)" > $(STAMP)
	@echo "installed into $(VENV): $(notdir $(PACKAGES))"

up: install
	@scripts/up.sh

test: install
	@scripts/ensure-services.sh rabbitmq postgres dovecot chromium
	$(BIN)/pytest $(PYTEST_ARGS)

# The benchmark's default database is PostgreSQL (BENCH_ARGS="--db sqlite --n 200" to change).
bench: install
	@scripts/ensure-services.sh rabbitmq postgres
	$(BIN)/python bench/e2e.py $(BENCH_ARGS)

# E-mail throughput, IMAP and SMTP to stored ticket (bench/email.py): BENCH_ARGS="--n 500 --connections 16".
bench-email: install
	@scripts/ensure-services.sh rabbitmq dovecot
	$(BIN)/python bench/email.py $(BENCH_ARGS)

# Caller pop-ups, AMI ringing event to the agent's WebSocket at 20 calls/s with 1M persons (bench/popup.py):
# BENCH_ARGS="--persons 20000 --tickets 5000 --seconds 10" for a quick try.
bench-popup: install
	@scripts/ensure-services.sh rabbitmq postgres
	$(BIN)/python bench/popup.py $(BENCH_ARGS)

docs: install
	$(BIN)/python scripts/export_docs.py

# The router's learned classifier: trained on the reviewed corpus labels (and TICKETS_EXPORT, JSON lines of
# confirmed ticket types, when given); prints the held-out accuracy; ROUTER_MODEL_FILE=var/router-model.joblib.
CORPUS ?= ../shared/corpus
train-router: install
	$(BIN)/python -m priyom_router.training --corpus $(CORPUS) \
	  --labels services/router/training/corpus_labels.csv --out var/router-model.joblib \
	  --database "$${ROUTER_DATABASE_URL:-$${DATABASE_URL:-sqlite+aiosqlite:///var/router.db}}" \
	  $(if $(TICKETS_EXPORT),--tickets $(TICKETS_EXPORT))

clean:
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' -o -name .pytest_cache -o -name .hypothesis \
	     -o -name .ruff_cache -o -name .mypy_cache -o -name .import_linter_cache -o -name build -o -name dist \) -type d -print0 \
	  | xargs -0 rm -rf

# Also removes the virtual environment and var/ (local SQLite databases, blobs and the admin token).
distclean: clean
	rm -rf $(VENV) var

FORCE:
