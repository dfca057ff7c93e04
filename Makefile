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
# The tests wait on the broker, databases and services far more than they compute: more workers than cores.
# On 2 cores (2026-12-07, the same clean clone): 4 workers 17 min 20 s, 6 workers 14 min 49 s, 8 workers 14 min 24 s.
TEST_WORKERS ?= 6
BENCH_ARGS ?=
export VENV

# Every package installed (editable) into the one environment: the two libraries, the test support that the
# tests and bench/ import (never a service's dependency), then each service that has a pyproject.toml. A
# service appearing, or any pyproject.toml changing, triggers a re-install.
PACKAGES := packages/contracts packages/kit packages/testing \
	$(patsubst %/pyproject.toml,%,$(sort $(wildcard services/*/pyproject.toml)))
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
# Optional extras the development environment needs (their tests run here): the S3 blob store's client, the
# kit's pytest plugin, the router's training. Images install none of them unless asked (KIT_EXTRAS=s3).
EXTRAS_kit := [s3,pytest]
EXTRAS_router := [training]
EDITABLE := $(foreach p,$(PACKAGES),-e '$(p)$(EXTRAS_$(notdir $(p)))')

.PHONY: help install up test check-deploy bench bench-email bench-popup bench-chat bench-memory chaos cluster docs train-router clean distclean FORCE

help:
	@echo "make up         install, start RabbitMQ if needed, migrate, run every service under honcho"
	@echo "make test       install, make sure RabbitMQ and PostgreSQL answer, run pytest (PYTEST_ARGS=...)"
	@echo "make check-deploy  each service alone in a fresh virtualenv, then the images and compose (scripts/check-deploy.sh)"
	@echo "make bench      end-to-end benchmark, bench/e2e.py (BENCH_ARGS=...)"
	@echo "make bench-email  e-mail throughput, IMAP and SMTP to stored ticket, bench/email.py (BENCH_ARGS=...)"
	@echo "make bench-popup  caller pop-up latency, AMI event to agent WebSocket, bench/popup.py (BENCH_ARGS=...)"
	@echo "make bench-chat   idle website-chat sockets held, visitor message to ticket latency, bench/chat.py"
	@echo "make bench-memory idle RSS of every service as a process, bench/idle_memory.py"
	@echo "make chaos      every channel at once while services are killed and the broker restarts, bench/chaos.py"
	@echo "make cluster    two replicas of everything on a 3-node RabbitMQ cluster, nodes and leaders killed, bench/cluster.py"
	@echo "make docs       regenerate docs/asyncapi.json and docs/schemas/"
	@echo "make train-router  train the router's classifier, print held-out accuracy, precision and recall"
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
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(EDITABLE) -r requirements-dev.txt
	@echo "$(PACKAGES)" > $(STAMP)
	@echo "installed into $(VENV): $(notdir $(PACKAGES))"

up: install
	@scripts/up.sh

test: install
	@scripts/ensure-services.sh rabbitmq postgres dovecot chromium
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not exclusive" $(PYTEST_ARGS)
	$(BIN)/pytest -m exclusive $(PYTEST_ARGS) || [ $$? -eq 5 ]

# Before a release, not in every `make test` (minutes, and a container engine): each service installed alone
# into a fresh virtualenv exactly as its Dockerfile installs it, started with `serve` against the local RabbitMQ
# and PostgreSQL, /health answered; then a base image from Debian's packages, every image built, the compose
# stack healthy and a web contact turned into a ticket. Where no engine runs, it says why (docs/deploy.md).
# CHECK_DEPLOY_ARGS="--venvs-only" skips the images.
CHECK_DEPLOY_ARGS ?=
check-deploy: install
	@scripts/ensure-services.sh rabbitmq postgres
	@scripts/check-deploy.sh $(CHECK_DEPLOY_ARGS)

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

# Idle memory of every service as a process, channels configured, after 30 s (bench/idle_memory.py).
bench-memory: install
	@scripts/ensure-services.sh rabbitmq postgres
	$(BIN)/python bench/idle_memory.py $(BENCH_ARGS)

bench-chat: install
	@scripts/ensure-services.sh rabbitmq
	$(BIN)/python bench/chat.py $(BENCH_ARGS)

# The chaos run (bench/chaos.py) on PostgreSQL. By default it starts a private RabbitMQ node
# (scripts/chaos-broker.sh, port 5673) and restarts only that one, never a broker others share;
# CHAOS_AMQP_URL and CHAOS_BROKER_RESTART="command" point it at another broker. CHAOS_ARGS="--seconds 120".
CHAOS_ARGS ?=
chaos: install
	@scripts/ensure-services.sh postgres
	@if [ -n "$${CHAOS_AMQP_URL:-}" ]; then \
	  $(BIN)/python bench/chaos.py --amqp-url "$$CHAOS_AMQP_URL" \
	    $${CHAOS_BROKER_RESTART:+--broker-restart "$$CHAOS_BROKER_RESTART"} $(CHAOS_ARGS); \
	else \
	  scripts/chaos-broker.sh start; \
	  $(BIN)/python bench/chaos.py --amqp-url "$$(scripts/chaos-broker.sh url)" \
	    --broker-restart "$(CURDIR)/scripts/chaos-broker.sh restart" $(CHAOS_ARGS); \
	fi

# The scale-out run (bench/cluster.py): a three-node RabbitMQ cluster on this machine
# (scripts/cluster-broker.sh, ports 5691-5693), PostgreSQL, two replicas of every service; one node stopped,
# each singleton's leader and one replica of each consumer killed. CLUSTER_ARGS="--seconds 120".
CLUSTER_ARGS ?=
cluster: install
	@scripts/ensure-services.sh postgres
	$(BIN)/python bench/cluster.py $(CLUSTER_ARGS)

docs: install
	$(BIN)/python scripts/export_docs.py

# The router's learned classifier, trained on the labelled contacts (services/router/training/contacts/
# train.jsonl) and the agents' type corrections in the router's database (TICKETS_EXPORT adds JSON lines of
# confirmed types): prints the held-out accuracy and each type's precision and recall on heldout.jsonl, which
# it never trains on, and writes var/router-model.json (`make up` uses it when it exists; otherwise the router
# uses its built-in model). NO_CORRECTIONS=1 ROUTER_MODEL_OUT=services/router/src/priyom_router/contact_model.json
# retrains the built-in model itself, from train.jsonl alone (its tests check it against that file's hash).
CONTACTS := services/router/training/contacts
ROUTER_MODEL_OUT ?= var/router-model.json
train-router: install
	$(BIN)/python -m priyom_router.training --contacts $(CONTACTS)/train.jsonl --heldout $(CONTACTS)/heldout.jsonl \
	  --cv 5 --out $(ROUTER_MODEL_OUT) \
	  $(if $(NO_CORRECTIONS),,--database "$${ROUTER_DATABASE_URL:-$${DATABASE_URL:-sqlite+aiosqlite:///var/router.db}}") \
	  $(if $(TICKETS_EXPORT),--contacts $(TICKETS_EXPORT))

clean:
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
	  \( -name __pycache__ -o -name '*.egg-info' -o -name .pytest_cache -o -name .hypothesis \
	     -o -name .ruff_cache -o -name .mypy_cache -o -name .import_linter_cache -o -name build -o -name dist \) -type d -print0 \
	  | xargs -0 rm -rf

# Also removes the virtual environment and var/ (local SQLite databases, blobs and the admin token).
distclean: clean
	rm -rf $(VENV) var

FORCE:
