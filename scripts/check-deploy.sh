#!/usr/bin/env bash
# `make check-deploy`: is what we ship installable and runnable as shipped? Run before every release; too
# slow for every `make test` (minutes of pip and image builds). docs/deploy.md explains each step.
#   1. each service in a fresh virtualenv with exactly its Dockerfile's `pip install`, all of them started
#      from those virtualenvs against the local RabbitMQ and PostgreSQL, /health answered, a web contact
#      turned into a ticket (scripts/check_deploy_venvs.py);
#   2. the images: podman from Debian, a base image from Debian's packages, every image built from it and
#      started alone (scripts/check-deploy-images.sh), then the compose stack healthy behind Caddy and a web
#      contact through TLS turned into a ticket (scripts/check-deploy-compose.sh).
# --venvs-only stops after 1. Exit 3: no container engine runs on this machine (the reason is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
export VENV
echo "== 1/2 each service alone in its own virtualenv"
"$VENV/bin/python" scripts/check_deploy_venvs.py
[ "${1:-}" = "--venvs-only" ] && exit 0
echo "== 2/2 images and compose"
scripts/check-deploy-images.sh
