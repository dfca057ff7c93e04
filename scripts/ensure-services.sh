#!/usr/bin/env bash
# Make sure the servers Priyom needs answer: scripts/ensure-services.sh rabbitmq|postgres|dovecot|chromium [...]
#
# For each one: if its port answers, done. If not and the address is this machine: start the local server;
# if it is not installed and we are root on Debian/Ubuntu, install it from the distribution first. Otherwise
# print one line saying how to get one and exit non-zero.
#   rabbitmq   host and port from AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/)
#   postgres   host and port from PRIYOM_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres);
#              also checks that this URL can connect and create databases, as the tests do.
#   dovecot    only the binary: intake-email's tests start their own Dovecot on a high port with a throwaway
#              configuration, so a system instance is not needed (one installed here is stopped again).
#   chromium   Debian's chromium and chromium-driver, for the agent console's browser tests (Playwright drives
#              /usr/bin/chromium; it never downloads a browser of its own). Optional: without it, and without
#              root to install it, the script says how and goes on, and those tests skip saying why.
set -euo pipefail

AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}
PG_URL=${PRIYOM_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PATH=$PATH:/usr/sbin:/sbin
export DEBIAN_FRONTEND=noninteractive

say() { echo "ensure-services: $*" >&2; }
fail() { say "$*"; exit 1; }

# "host port" of a URL, with a default port.
host_port() {
  local rest=${1#*://}
  rest=${rest%%[/?#]*}
  rest=${rest##*@}
  local host port=$2
  if [[ $rest == \[* ]]; then              # [::1]:5672
    host=${rest%%]*}; host=${host#[}
    [[ $rest == *]:* ]] && port=${rest##*]:}
  elif [[ $rest == *:* ]]; then
    host=${rest%%:*}; port=${rest##*:}
  else
    host=$rest
  fi
  echo "${host:-127.0.0.1} $port"
}

port_open() { timeout 2 bash -c ">/dev/tcp/$1/$2" 2>/dev/null; }

wait_port() {  # host port seconds
  local deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    port_open "$1" "$2" && return 0
    sleep 1
  done
  return 1
}

# An open port is not an answering broker: a wedged node accepts TCP and never reads (seen here once, after a
# day of test queues), and every test would then hang to its timeout. AMQP 0-9-1 opens with the client's
# protocol header; a live broker answers with a Connection.Start method frame (frame type 1).
amqp_answers() {  # host port
  timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1"; printf "AMQP\x00\x00\x09\x01" >&3; head -c 1 <&3 | od -An -tx1' \
    "$1" "$2" 2>/dev/null | grep -q 01
}

rabbitmq_ready() {  # host port: say so, or fail saying why
  if amqp_answers "$1" "$2"; then
    say "RabbitMQ answers on $1:$2"
    if is_local "$1" && command -v rabbitmq-server >/dev/null; then widen_rabbitmq "$1" "$2"; fi
    return 0
  fi
  if is_local "$1" && command -v rabbitmq-server >/dev/null && restart_stuck_rabbitmq "$1" "$2" \
    && amqp_answers "$1" "$2"; then
    say "RabbitMQ answers on $1:$2 after a restart"
    return 0
  fi
  fail "RabbitMQ accepts connections on $1:$2 but does not answer the AMQP handshake within 10 s: the node is stuck. Restart it ('rabbitmqctl stop_app; rabbitmqctl start_app', or stop the node and 'rabbitmq-server -detached'); see /var/log/rabbitmq/."
}

# A wedged local node (it has happened on a test machine, and the next run then failed before any test) is
# restarted rather than reported: stop it politely, kill its Erlang VM if that hangs, start it again. Only the
# default node (the one on the checked port) is touched, never the chaos run's private one.
# The local node gets as many open files as this shell may have. Debian's rabbitmq-server switches to its user
# through su, which applies PAM's soft limit of 1024: the parallel test run (several services per worker, each
# with its connections, and hundreds of quorum queues with their files) ran the node out of them, and it
# stalled for minutes. As root, the node is started as its user by setpriv instead, which keeps the limits.
start_rabbitmq_node() {
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id rabbitmq >/dev/null 2>&1; then
    (cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq USER=rabbitmq LOGNAME=rabbitmq \
      setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups rabbitmq-server -detached) || true
  else
    rabbitmq-server -detached || true
  fi
}

# The Erlang VM listening on the port, however it was started (Debian's init script writes /var/run/rabbitmq/pid,
# `rabbitmq-server -detached` a pid file under mnesia/, systemd neither), and never the chaos run's private node
# on its own port. Without ss, the rabbitmq user's only VM.
rabbitmq_vm_pid() {  # port
  if command -v ss >/dev/null; then
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'beam.smp",pid=[0-9]*' | head -n 1 | cut -d= -f2 || true
  else
    pgrep -u rabbitmq -x beam.smp 2>/dev/null | head -n 1 || true
  fi
}

rabbitmq_open_files() {  # port: the running local node's soft limit of open files (empty if unknown)
  local pid
  pid=$(rabbitmq_vm_pid "$1")
  [ -n "$pid" ] || return 0
  awk '/^Max open files/ {print $4}' "/proc/$pid/limits" 2>/dev/null || true
}

# A healthy local node started with PAM's 1024 files is restarted once with more (see start_rabbitmq_node).
widen_rabbitmq() {  # host port
  local files hard
  files=$(rabbitmq_open_files "$2"); hard=$(ulimit -Hn)
  [ "$(id -u)" = 0 ] && [ -n "$files" ] && [ "$files" != unlimited ] && [ "$files" -lt 16384 ] || return 0
  [ "$hard" = unlimited ] || [ "$hard" -ge 16384 ] || return 0
  say "RabbitMQ may open only $files files: restarting it with more (as its user, without PAM's limit)"
  restart_local_rabbitmq "$1" "$2" || fail "RabbitMQ on $1:$2 does not answer after its restart: see /var/log/rabbitmq/."
  say "RabbitMQ answers on $1:$2 with $(rabbitmq_open_files "$2") files"
}

restart_stuck_rabbitmq() {  # host port
  say "RabbitMQ on $1:$2 accepts connections but does not answer the AMQP handshake: restarting the local node"
  restart_local_rabbitmq "$1" "$2"
}

restart_local_rabbitmq() {  # host port: stop politely, kill the Erlang VM if that hangs, start, wait for AMQP
  timeout 60 rabbitmqctl -q stop >/dev/null 2>&1 || true
  if port_open "$1" "$2"; then
    say "the node did not stop within 60 s: killing its Erlang VM"
    local pid
    pid=$(rabbitmq_vm_pid "$2")
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    sleep 2
  fi
  start_rabbitmq_node
  wait_port "$1" "$2" 120 || return 1
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do amqp_answers "$1" "$2" && return 0; sleep 2; done
  return 1
}

is_local() { case $1 in 127.* | localhost | ::1 | 0.0.0.0) return 0 ;; *) return 1 ;; esac; }

can_apt() { [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

apt_install() {
  say "installing $* from the distribution (apt-get)"
  apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
}

ensure_rabbitmq() {
  local host port
  read -r host port < <(host_port "${AMQP_URL%%,*}" 5672)  # a cluster's list: its first node
  if port_open "$host" "$port"; then rabbitmq_ready "$host" "$port"; return 0; fi
  is_local "$host" || fail "RabbitMQ at $host:$port (AMQP_URL) does not answer: start that broker or point AMQP_URL at a running one."
  if ! command -v rabbitmq-server >/dev/null; then
    can_apt || fail "RabbitMQ is not installed: run 'sudo apt-get install rabbitmq-server' (or 'docker compose -f deploy/docker-compose.yml up -d rabbitmq'), or set AMQP_URL to a running broker."
    apt_install rabbitmq-server
    # The package's own start script may already have started it.
    if wait_port "$host" "$port" 5; then rabbitmq_ready "$host" "$port"; return 0; fi
  fi
  if rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
    fail "a local RabbitMQ node runs but does not answer on $host:$port: check AMQP_URL against its listeners ('rabbitmq-diagnostics listeners')."
  fi
  say "starting RabbitMQ (rabbitmq-server -detached)"
  start_rabbitmq_node   # exits non-zero when a node is already booting; the port decides
  wait_port "$host" "$port" 60 \
    || fail "RabbitMQ did not open $host:$port within 60 s: see /var/log/rabbitmq/ (or 'rabbitmq-diagnostics status')."
  rabbitmq_ready "$host" "$port"
}

pg_versions() { ls /etc/postgresql 2>/dev/null | sort -V; }

start_postgres() {
  local started=1 ver
  for ver in $(pg_versions); do
    if command -v pg_ctlcluster >/dev/null; then
      say "starting PostgreSQL $ver (pg_ctlcluster $ver main start)"
      pg_ctlcluster --skip-systemctl-redirect "$ver" main start && started=0
    fi
  done
  if [ $started -ne 0 ] && command -v service >/dev/null; then
    say "starting PostgreSQL (service postgresql start)"
    service postgresql start && started=0
  fi
  return $started
}

# Only for a server this script has just installed: let local TCP connections in without a password, as
# the default PRIYOM_TEST_PG_URL expects. An existing server's configuration is never changed.
trust_local_connections() {
  local ver hba
  for ver in $(pg_versions); do
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    [ -f "$hba" ] || continue
    say "allowing local TCP connections without a password in $hba (new test server)"
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
  done
}

# Prints nothing and succeeds when PG_URL connects and may create databases; otherwise prints the reason.
pg_check() {
  local query="select rolcreatedb or rolsuper from pg_roles where rolname = current_user"
  if command -v psql >/dev/null; then
    local out
    out=$(PGCONNECT_TIMEOUT=5 psql -w -X -A -t -v ON_ERROR_STOP=1 -c "$query" "$PG_URL" 2>&1) || { echo "$out"; return 1; }
    [ "$(echo "$out" | tr -d '[:space:]')" = t ] || { echo "the role may not create databases"; return 1; }
    return 0
  fi
  local py=${VENV:-.venv}/bin/python
  if [ -x "$py" ] && "$py" -c 'import asyncpg' 2>/dev/null; then
    "$py" - "$PG_URL" "$query" <<'EOF'
import asyncio, sys
import asyncpg
async def main(url, query):
    conn = await asyncpg.connect(url, timeout=5)
    try:
        if not await conn.fetchval(query):
            sys.exit("the role may not create databases")
    finally:
        await conn.close()
try:
    asyncio.run(main(*sys.argv[1:]))
except Exception as exc:  # the reason is the answer
    sys.exit(f"{type(exc).__name__}: {exc}")
EOF
    return $?
  fi
  say "neither psql nor asyncpg is available: cannot check that $PG_URL connects (the port answers)"
  return 0
}

ensure_postgres() {
  local host port fresh=0
  read -r host port < <(host_port "$PG_URL" 5432)
  if ! port_open "$host" "$port"; then
    is_local "$host" || fail "PostgreSQL at $host:$port (PRIYOM_TEST_PG_URL) does not answer: start it or set PRIYOM_TEST_PG_URL to a running server."
    if [ -z "$(pg_versions)" ]; then
      can_apt || fail "PostgreSQL is not installed: run 'sudo apt-get install postgresql' (or 'docker compose -f deploy/docker-compose.yml up -d postgres' and set PRIYOM_TEST_PG_URL), or set PRIYOM_TEST_PG_URL to a running server."
      apt_install postgresql
      fresh=1
    fi
    port_open "$host" "$port" || start_postgres || true
    wait_port "$host" "$port" 60 \
      || fail "PostgreSQL did not open $host:$port within 60 s: see /var/log/postgresql/ ('pg_lsclusters' lists the clusters)."
    if [ $fresh -eq 1 ]; then trust_local_connections; fi
  fi
  local why
  if ! why=$(pg_check); then
    say "PostgreSQL answers on $host:$port but the tests cannot use $PG_URL: $(echo "$why" | head -3 | tr '\n' ' ')"
    fail "Fix: set PRIYOM_TEST_PG_URL=postgresql://USER:PASSWORD@$host:$port/postgres for a role with CREATEDB, or (as root, a local test server only) add 'host all all 127.0.0.1/32 trust' at the top of /etc/postgresql/*/main/pg_hba.conf and run 'pg_ctlcluster --skip-systemctl-redirect <version> main reload'."
  fi
  say "PostgreSQL answers on $host:$port and $PG_URL may create databases"
}

dovecot_binary() { command -v dovecot || { [ -x /usr/sbin/dovecot ] && echo /usr/sbin/dovecot; }; }

ensure_dovecot() {
  if [ -z "$(dovecot_binary)" ]; then
    can_apt || fail "Dovecot is not installed (intake-email's IMAP tests need it): run 'sudo apt-get install dovecot-imapd'."
    apt_install dovecot-imapd
    # The package may start the system instance on 143/993; the tests never use it.
    if command -v doveadm >/dev/null && doveadm stop >/dev/null 2>&1; then say "stopped the system Dovecot the package started"; fi
  fi
  say "Dovecot is installed ($(dovecot_binary)); the tests start their own instance"
}

ensure_chromium() {
  if command -v chromium >/dev/null; then say "Chromium is installed ($(command -v chromium))"; return 0; fi
  if ! can_apt; then
    say "Chromium is not installed, so the console's browser tests will skip: run 'sudo apt-get install chromium chromium-driver'."
    return 0
  fi
  say "installing chromium chromium-driver from the distribution (apt-get, without recommends)"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
    || say "installing Chromium failed: the console's browser tests will skip"
}

[ $# -gt 0 ] || fail "usage: $0 rabbitmq|postgres|dovecot|chromium [...]"
for service in "$@"; do
  case $service in
    rabbitmq) ensure_rabbitmq ;;
    postgres | postgresql) ensure_postgres ;;
    dovecot) ensure_dovecot ;;
    chromium) ensure_chromium ;;
    *) fail "unknown service '$service' (known: rabbitmq, postgres, dovecot, chromium)" ;;
  esac
done
