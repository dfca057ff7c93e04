#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this one machine, for `make cluster`: nodes priyom-c1..3@localhost, each
# with its own AMQP port, distribution port and data directory, joined into one cluster.
#   scripts/cluster-broker.sh start | stop-node N | start-node N | urls | url N | stop
# CLUSTER_RMQ_DIR (default /tmp/priyom-cluster-$USER), CLUSTER_RMQ_PORT (first AMQP port, default 5691).
set -euo pipefail
base=${CLUSTER_RMQ_DIR:-/tmp/priyom-cluster-${USER:-$(id -un)}}
first_port=${CLUSTER_RMQ_PORT:-5691}

node_name() { echo "priyom-c$1@localhost"; }
port_of() { echo $((first_port + $1 - 1)); }

# The environment rabbitmq-server and rabbitmqctl read for node N.
node_env() {
  local n=$1 dir=$base/n$1 port
  port=$(port_of "$n")
  export RABBITMQ_NODENAME=$(node_name "$n") RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$((port + 20000)) \
    RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log RABBITMQ_CONFIG_FILE=$dir/rabbitmq \
    RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf \
    RABBITMQ_PID_FILE=$dir/node.pid
}

ctl() { local n=$1; shift; (node_env "$n"; rabbitmqctl -n "$(node_name "$n")" -q "$@"); }

# Launch node N (returns before it has started: see await_node).
launch_node() {
  local n=$1 dir=$base/n$1
  if ctl "$n" await_startup --timeout 2 >/dev/null 2>&1; then return 0; fi
  mkdir -p "$dir/mnesia" "$dir/log"
  printf 'listeners.tcp.local = 127.0.0.1:%s\nloopback_users.guest = false\n' "$(port_of "$n")" > "$dir/rabbitmq.conf"
  echo '[].' > "$dir/enabled_plugins"
  printf 'ERL_EPMD_ADDRESS=127.0.0.1\nexport ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n' \
    > "$dir/rabbitmq-env.conf"
  if id rabbitmq >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then chown -R rabbitmq:rabbitmq "$dir"; fi
  (node_env "$n"; rabbitmq-server -detached)
}

await_node() {
  # -detached returns before the node is known to epmd: wait for a ping before await_startup.
  for _ in $(seq 120); do ctl "$1" ping >/dev/null 2>&1 && break; sleep 1; done
  ctl "$1" await_startup --timeout 180
}

start_node() { launch_node "$1"; await_node "$1"; }

case "${1:-}" in
  start)
    # All three launched before any is waited for: a clustered node that was stopped waits for its peers.
    for n in 1 2 3; do launch_node "$n"; done
    for n in 1 2 3; do await_node "$n"; done
    for n in 2 3; do
      if ctl "$n" cluster_status --formatter json 2>/dev/null | grep -q "$(node_name 1)"; then continue; fi
      ctl "$n" stop_app
      ctl "$n" reset
      ctl "$n" join_cluster "$(node_name 1)"
      ctl "$n" start_app
      ctl "$n" await_startup --timeout 120
    done ;;
  stop-node)
    ctl "${2:?node number}" stop ;;
  start-node)
    start_node "${2:?node number}" ;;
  urls)
    echo "amqp://guest:guest@127.0.0.1:$(port_of 1)/,amqp://guest:guest@127.0.0.1:$(port_of 2)/,amqp://guest:guest@127.0.0.1:$(port_of 3)/" ;;
  url)
    echo "amqp://guest:guest@127.0.0.1:$(port_of "${2:?node number}")/" ;;
  stop)
    for n in 3 2 1; do ctl "$n" stop >/dev/null 2>&1 || true; done ;;
  *)
    echo "usage: $0 start|stop-node N|start-node N|urls|url N|stop" >&2; exit 2 ;;
esac
