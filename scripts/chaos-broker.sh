#!/usr/bin/env bash
# A private RabbitMQ node for the chaos run, so restarting "the broker" never touches a shared one.
#   scripts/chaos-broker.sh start|restart|stop|url
# CHAOS_RMQ_DIR (default /tmp/chaos-rmq-$USER), CHAOS_RMQ_PORT (5673), CHAOS_RMQ_NODE (chaos@localhost).
set -euo pipefail
dir=${CHAOS_RMQ_DIR:-/tmp/chaos-rmq-${USER:-$(id -un)}}
port=${CHAOS_RMQ_PORT:-5673}
node=${CHAOS_RMQ_NODE:-chaos@localhost}
export RABBITMQ_NODENAME=$node RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 20000)) \
  RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_CONFIG_FILE=$dir/rabbitmq \
  RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf \
  RABBITMQ_PID_FILE=$dir/node.pid

case "${1:-}" in
  start)
    if rabbitmqctl -n "$node" -q await_startup --timeout 2 >/dev/null 2>&1; then exit 0; fi
    mkdir -p "$dir/mnesia" "$dir/log"
    printf 'listeners.tcp.local = 127.0.0.1:%s\nloopback_users.guest = false\n' "$port" > "$dir/rabbitmq.conf"
    echo '[].' > "$dir/enabled_plugins"
    printf 'ERL_EPMD_ADDRESS=127.0.0.1\nexport ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n' \
      > "$dir/rabbitmq-env.conf"
    if id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; fi
    rabbitmq-server -detached
    # -detached returns before the node is known to epmd, and await_startup refuses a node it cannot find
    # yet ("not running at all"): wait for it to answer a ping first.
    for _ in $(seq 120); do rabbitmqctl -n "$node" -q ping >/dev/null 2>&1 && break; sleep 1; done
    rabbitmqctl -n "$node" -q await_startup --timeout 120 ;;
  restart)
    rabbitmqctl -n "$node" -q stop_app
    rabbitmqctl -n "$node" -q start_app
    rabbitmqctl -n "$node" -q await_startup --timeout 120 ;;
  stop)
    rabbitmqctl -n "$node" -q stop || true ;;
  url)
    echo "amqp://guest:guest@127.0.0.1:$port/" ;;
  *)
    echo "usage: $0 start|restart|stop|url" >&2; exit 2 ;;
esac
