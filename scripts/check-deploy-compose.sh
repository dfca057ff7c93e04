#!/usr/bin/env bash
# The compose half of `make check-deploy` (after scripts/check-deploy-images.sh built the images): the stack of
# deploy/docker-compose.yml, as written, brought up healthy, and one web contact through Caddy's TLS becomes a
# ticket. No registry is reachable here, so RabbitMQ, PostgreSQL and Caddy are stand-ins built from Debian's
# packages (scripts/check-deploy/*.Dockerfile) passed as RABBITMQ_IMAGE, POSTGRES_IMAGE and CADDY_IMAGE.
# Compose is Debian's docker-compose (1.29, which honours depends_on conditions) on podman's Docker API.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$PWD/var/check-deploy"
export CONTAINERS_CONF="$WORK/containers.conf"
BASE="${CHECK_DEPLOY_BASE:-localhost/priyom-base:bookworm}"
PY="${VENV:-.venv}/bin/python"
say() { printf '%s\n' "$*"; }
free_port() { "$PY" -c 'from priyom_testing.ports import free_port; print(free_port())'; }

command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose \
  >"$WORK/apt-compose.log" 2>&1
for infra in postgres rabbitmq caddy; do
  started=$SECONDS
  podman build --quiet --format docker --network=host --build-arg "BASE_IMAGE=$BASE" \
    -f "scripts/check-deploy/$infra.Dockerfile" -t "localhost/priyom-standin-$infra:check" scripts/check-deploy \
    >"$WORK/build-$infra.log" 2>&1 || { say "stand-in $infra failed:"; tail -20 "$WORK/build-$infra.log"; exit 1; }
  say "stand-in $infra from Debian's packages in $((SECONDS - started))s"
done

rm -rf "$WORK/secrets"
SECRETS_DIR="$WORK/secrets" deploy/make-secrets.sh >/dev/null
https_port="$(free_port)"
cat >"$WORK/compose.env" <<ENV
PRIYOM_VERSION=check
BASE_IMAGE=$BASE
PRIYOM_SECRETS_DIR=$WORK/secrets
RABBITMQ_IMAGE=localhost/priyom-standin-rabbitmq:check
POSTGRES_IMAGE=localhost/priyom-standin-postgres:check
CADDY_IMAGE=localhost/priyom-standin-caddy:check
PRIYOM_HTTP_PORT=$(free_port)
PRIYOM_HTTPS_PORT=$https_port
PRIYOM_SMTP_PORT=$(free_port)
RABBITMQ_MANAGEMENT_PORT=$(free_port)
ENV
socket="$WORK/podman.sock"
podman system service --time=0 "unix://$socket" >"$WORK/podman-service.log" 2>&1 &
service_pid=$!
export DOCKER_HOST="unix://$socket"
# docker-compose 1.29 does not know the top-level `name:` (compose v2 does): the project is named with -p, from
# a copy without that one line, whose relative paths still resolve against deploy/.
grep -v '^name: ' deploy/docker-compose.yml >"$WORK/docker-compose.yml"
compose=(docker-compose -p priyomcheck -f "$WORK/docker-compose.yml" --project-directory deploy
         --env-file "$WORK/compose.env")
# Podman runs healthchecks from systemd timers, and there is no systemd here: run them on a loop instead.
( while sleep 3; do
    for id in $(podman ps -q --filter label=com.docker.compose.project=priyomcheck); do
      podman healthcheck run "$id" >/dev/null 2>&1 || true
    done
  done ) &
health_pid=$!
cleanup() {
  "${compose[@]}" logs --no-color >"$WORK/compose.log" 2>&1 || true
  "${compose[@]}" down -v --remove-orphans >"$WORK/compose-down.log" 2>&1 || true
  kill "$health_pid" "$service_pid" 2>/dev/null || true
  rm -rf "$WORK/secrets"
}
trap cleanup EXIT
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.2; done

started=$SECONDS
if ! "${compose[@]}" up -d --no-build >"$WORK/compose-up.log" 2>&1; then
  say "compose up failed after $((SECONDS - started))s:"; tail -25 "$WORK/compose-up.log"
  exit 1
fi
say "compose  up -d: every service healthy, every migration done, in $((SECONDS - started))s"
"${compose[@]}" ps

podman cp "$("${compose[@]}" ps -q caddy):/data/caddy/pki/authorities/local/root.crt" "$WORK/caddy-root.crt"
"$PY" - "$https_port" <<'PY'
import sys
import socket
# form.localhost and console.localhost resolve to this machine (RFC 6761); Caddy listens on the free port.
port = int(sys.argv[1])
orig = socket.getaddrinfo
socket.getaddrinfo = lambda host, p, *a, **k: orig("127.0.0.1" if host.endswith(".localhost") else host, p, *a, **k)
sys.path.insert(0, "scripts")
from web_contact import web_contact_becomes_ticket
number, seconds = web_contact_becomes_ticket(f"https://form.localhost:{port}", f"https://console.localhost:{port}",
                                             verify="var/check-deploy/caddy-root.crt")
print(f"contact  https://form.localhost -> Caddy -> intake-web -> identity -> router -> tickets: ticket {number} in {seconds:.2f}s")
PY
