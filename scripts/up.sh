#!/usr/bin/env bash
# `make up`: the whole stack on this machine. RabbitMQ checked (started or installed if need be), migrations
# run, every service that exists started under honcho with the Procfile (prefixed logs; Ctrl-C stops them
# all), demo data loaded once identity answers, then the URLs and the admin token printed.
# Data: SQLite files and blobs under var/ unless DATABASE_URL / <PREFIX>DATABASE_URL / PRIYOM_BLOB_DIR say
# otherwise. Expects `make install` to have run (make up does it).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
[ -x "$VENV/bin/python" ] || { echo "up: $VENV is missing: run 'make install' first" >&2; exit 1; }
export PATH="$VENV/bin:$PATH" VIRTUAL_ENV=$VENV PYTHONUNBUFFERED=1

scripts/ensure-services.sh rabbitmq
mkdir -p var

# The admin token: PRIYOM_ADMIN_TOKEN if set, else generated once into var/admin-token (mode 600).
if [ -z "${PRIYOM_ADMIN_TOKEN:-}" ]; then
  if [ ! -s var/admin-token ]; then
    (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' >var/admin-token)
  fi
  chmod 600 var/admin-token
  PRIYOM_ADMIN_TOKEN=$(<var/admin-token)
fi
export PRIYOM_ADMIN_TOKEN
# The key of the web form's status link (shared by intake-web and tickets): generated once likewise.
if [ -z "${PRIYOM_PUBLIC_LINK_SECRET:-}" ]; then
  if [ ! -s var/public-link-secret ]; then
    (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' >var/public-link-secret)
  fi
  PRIYOM_PUBLIC_LINK_SECRET=$(<var/public-link-secret)
fi
export PRIYOM_PUBLIC_LINK_SECRET
# Each service's own credential for calling the others (never the admin token), generated once likewise.
if [ -z "${PRIYOM_SERVICE_TOKENS:-}" ]; then
  # One credential per service that calls another (tickets' staff extensions for the CTI webhook, the router's
  # roster for the website chat, cards and exports): made once, and added to a file from before a new caller.
  (umask 077 && python -c 'import json, os, secrets, sys
path = sys.argv[1]
tokens = json.load(open(path)) if os.path.getsize(path) else {}
for name in ("identity", "router", "tickets", "intake-messenger", "intake-telephony", "portal"):
    tokens.setdefault(name, secrets.token_urlsafe(32))
json.dump(tokens, open(path, "w"))' "$(touch var/service-tokens.json && echo var/service-tokens.json)")
  PRIYOM_SERVICE_TOKENS=$(<var/service-tokens.json)
fi
export PRIYOM_SERVICE_TOKENS
# route/explain given only a client_id reads the card from identity, with the router's credential.
export ROUTER_IDENTITY_URL=${ROUTER_IDENTITY_URL:-http://127.0.0.1:${IDENTITY_PORT:-8001}}
# the router's classifier: the model `make train-router` wrote (it learned the agents' corrections), else
# the router's built-in one.
if [ -z "${ROUTER_MODEL_FILE:-}" ] && [ -s var/router-model.json ]; then
  export ROUTER_MODEL_FILE=$PWD/var/router-model.json
fi
# The web form offers the knowledge base's articles (the portal) while the customer types.
export INTAKE_WEB_KB_URL=${INTAKE_WEB_KB_URL:-http://localhost:${PORTAL_PORT:-8007}}
# Where every other service checks a staff token (tickets' GET /api/v1/me): click-to-call, identity's cards.
export PRIYOM_STAFF_URL=${PRIYOM_STAFF_URL:-http://127.0.0.1:${TICKETS_PORT:-8000}}
# the console's client panel reads the full card from identity, with tickets' credential.
export TICKETS_IDENTITY_URL=${TICKETS_IDENTITY_URL:-http://127.0.0.1:${IDENTITY_PORT:-8001}}
# the console's call buttons go through tickets to intake-telephony (click-to-call), with the agent's token.
export TICKETS_TELEPHONY_URL=${TICKETS_TELEPHONY_URL:-http://127.0.0.1:${INTAKE_TELEPHONY_PORT:-8004}}
# the console's knowledge-base panel goes through tickets to the portal, with the agent's token.
export TICKETS_PORTAL_URL=${TICKETS_PORTAL_URL:-http://127.0.0.1:${PORTAL_PORT:-8007}}
# a subject access export gathers the person's tickets and type corrections, with identity's credential.
export IDENTITY_TICKETS_URL=${IDENTITY_TICKETS_URL:-http://127.0.0.1:${TICKETS_PORT:-8000}}
export IDENTITY_ROUTER_URL=${IDENTITY_ROUTER_URL:-http://127.0.0.1:${ROUTER_PORT:-8006}}
# the website chat: a demo site key for intake-messenger's own demo page (/chat/demo), unless sites are set.
if [ -z "${INTAKE_MESSENGER_CHAT_SITES:-}" ]; then
  m=${INTAKE_MESSENGER_PORT:-8003}
  export INTAKE_MESSENGER_CHAT_SITES="{\"demo\": [\"http://localhost:$m\", \"http://127.0.0.1:$m\"]}"
  export INTAKE_MESSENGER_CHAT_DEMO_SITE=${INTAKE_MESSENGER_CHAT_DEMO_SITE:-demo}
fi
# the customers' account on the portal: the key of its codes' and sessions' hashes (generated once), the cards
# and requests it reads with its own credential, and its cookie over plain HTTP on this machine.
if [ -z "${PORTAL_SESSION_SECRET:-}" ]; then
  if [ ! -s var/portal-session-secret ]; then
    (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(32))' >var/portal-session-secret)
  fi
  PORTAL_SESSION_SECRET=$(<var/portal-session-secret)
fi
export PORTAL_SESSION_SECRET
export PORTAL_IDENTITY_URL=${PORTAL_IDENTITY_URL:-http://127.0.0.1:${IDENTITY_PORT:-8001}}
export PORTAL_TICKETS_URL=${PORTAL_TICKETS_URL:-http://127.0.0.1:${TICKETS_PORT:-8000}}
export PORTAL_COOKIE_SECURE=${PORTAL_COOKIE_SECURE:-false}
# the chat is online while any agent in the router's roster is available, read with its own credential.
export INTAKE_MESSENGER_CHAT_ROUTER_URL=${INTAKE_MESSENGER_CHAT_ROUTER_URL:-http://127.0.0.1:${ROUTER_PORT:-8006}}

# The services that exist now: a folder under services/ with its __main__.py and a line in the Procfile.
declare -A DEFAULT_PORT=([tickets]=8000 [identity]=8001 [intake-web]=8002 [intake-email]=8005
  [intake-telephony]=8004 [intake-messenger]=8003 [router]=8006 [portal]=8007)
running=() missing=()
for dir in services/*/; do
  name=$(basename "$dir")
  module=priyom_${name//-/_}
  if [ -f "$dir/src/$module/__main__.py" ] && grep -q "^$name:" Procfile; then
    running+=("$name")
  else
    missing+=("$name")
  fi
done
[ ${#running[@]} -gt 0 ] || { echo "up: no service to start (none has src/priyom_<name>/__main__.py)" >&2; exit 1; }

port_of() {
  local var=${1//-/_}
  var=${var^^}_PORT
  echo "${!var:-${DEFAULT_PORT[$1]:-?}}"
}

for name in identity tickets router intake-email intake-messenger intake-telephony portal; do
  if [[ " ${running[*]} " == *" $name "* ]]; then
    echo "up: migrating $name"
    python -m "priyom_${name//-/_}" migrate || { echo "up: the migration of $name failed" >&2; exit 1; }
  fi
done

banner() {
  local t=${TICKETS_PORT:-8000} i=${IDENTITY_PORT:-8001} w=${INTAKE_WEB_PORT:-8002} p=${PORTAL_PORT:-8007}
  cat <<EOF

================================================================================
 Priyom is running. Ctrl-C stops every service.
   web form        http://localhost:$w/
   website chat    http://localhost:${INTAKE_MESSENGER_PORT:-8003}/chat/demo   (a demo page with the chat widget)
   agent console   http://localhost:$t/console   (log in with the admin token or an agent's token from var/agent-tokens.json)
   dead letters    http://localhost:$t/console/dead-letters   (admins: replay or discard what failed)
   dashboard       http://localhost:$t/console/dashboard   (supervisors: queues, lateness, today's SLA, agents)
   tickets API     http://localhost:$t/api/v1/tickets   (OpenAPI: http://localhost:$t/docs)
   identity API    http://localhost:$i/docs
   knowledge base  http://localhost:$p/kb   (API: http://localhost:$p/docs)
   my requests     http://localhost:$p/account   (customers sign in with a code sent to a verified e-mail or Telegram)
   telephony       AMI from AMI_HOST/AMI_PORT/AMI_USERNAME/AMI_SECRET when set; CTI webhook per docs/telephony.md
   admin token     $PRIYOM_ADMIN_TOKEN
                   curl -H "Authorization: Bearer \$(cat var/admin-token)" http://localhost:$t/api/v1/tickets
   started         ${running[*]}
EOF
  [ ${#missing[@]} -eq 0 ] || echo "   not started     ${missing[*]} (no src/priyom_<name>/__main__.py yet)"
  echo "================================================================================"
}

# In the background: wait until every started service answers /health, load the demo data, print the
# banner. It gives up as soon as honcho (this shell's PID after the exec below) is gone.
honcho_pid=$$
(
  ports=()
  for name in "${running[@]}"; do ports+=("$name=$(port_of "$name")"); done
  python - "$honcho_pid" "${ports[@]}" <<'EOF' || exit 0
import os, signal, sys, time, urllib.request
signal.signal(signal.SIGINT, signal.default_int_handler)
pid, services = int(sys.argv[1]), dict(arg.split("=", 1) for arg in sys.argv[2:])
deadline, waiting = time.monotonic() + 120, set(services)
try:
    while waiting and time.monotonic() < deadline:
        os.kill(pid, 0)
        for name in sorted(waiting):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{services[name]}/health", timeout=2) as r:
                    if r.status == 200:
                        waiting.discard(name)
            except OSError:
                pass
        time.sleep(0.5)
except (KeyboardInterrupt, ProcessLookupError):
    sys.exit(1)
if waiting:
    print(f"up: no answer on /health after 120 s from: {' '.join(sorted(waiting))}", file=sys.stderr)
EOF
  if [[ " ${running[*]} " == *" identity "* ]]; then
    python scripts/demo_data.py --wait 30 --stop-with "$honcho_pid" || [ $? -ne 130 ] || exit 0
  fi
  if [[ " ${running[*]} " == *" portal "* ]]; then
    python scripts/demo_kb.py --wait 30 --stop-with "$honcho_pid" || [ $? -ne 130 ] || exit 0
  fi
  kill -0 "$honcho_pid" 2>/dev/null && banner
) &

colour=()
[ -t 1 ] || colour=(--no-colour)
exec honcho start "${colour[@]}" -f Procfile "${running[@]}"
