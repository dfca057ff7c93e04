#!/usr/bin/env bash
# Write the secret files deploy/docker-compose.yml mounts (deploy/secrets/, never committed): random
# passwords and keys, the URLs that carry them, and empty files for the channel secrets (empty: channel off;
# put the bot token, PBX secret, relay password or mailbox list in its file). An existing file is kept, so
# running it again after an upgrade adds only what is new. SECRETS_DIR=... writes elsewhere.
set -euo pipefail
dir="${SECRETS_DIR:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 700 "$dir"

random() { tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40 || true; }

# write NAME CONTENT: only when NAME does not exist yet. Readable by every uid (the images run as 10001,
# RabbitMQ as 999): the folder's 0700 is what keeps other users of the host out.
write() {
  [ -e "$dir/$1" ] && return 0
  printf '%s\n' "$2" >"$dir/$1"
  chmod 444 "$dir/$1"
}

write postgres_password "$(random)"
write rabbitmq_password "$(random)"
pg="$(head -n1 "$dir/postgres_password")"
mq="$(head -n1 "$dir/rabbitmq_password")"
write rabbitmq_user.conf "default_user = priyom
default_pass = $mq"
write amqp_url "amqp://priyom:$mq@rabbitmq:5672/"
for db in tickets identity router intake_email intake_messenger intake_telephony portal; do
  write "${db}_database_url" "postgresql+asyncpg://priyom:$pg@postgres:5432/$db"
done
write admin_token "$(random)"
# Each service's own credential for calling the others (the service role only, never the admin token).
write service_tokens "{\"identity\": \"$(random)\", \"router\": \"$(random)\", \"tickets\": \"$(random)\", \"intake-messenger\": \"$(random)\", \"portal\": \"$(random)\"}"
write intake_web_challenge_key "$(random)"
# The key of the customers' status links, shared by intake-web (which signs them) and tickets (which opens them).
write public_link_secret "$(random)"
# The key of the portal's sign-in codes' and session tokens' hashes.
write portal_session_secret "$(random)"
for channel in intake_email_smtp_auth intake_email_relay_password telegram_bot_token telegram_webhook_secret \
               messenger_webhook_secret ami_secret cti_secret; do
  write "$channel" ""
done
write intake_email_imap_mailboxes "[]"
echo "secrets in $dir (admin token: $dir/admin_token)"
