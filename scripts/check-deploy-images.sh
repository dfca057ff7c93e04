#!/usr/bin/env bash
# The image half of `make check-deploy` (scripts/check-deploy.sh): a container engine from Debian's packages,
# a base image built from Debian's packages (no registry is reachable from the project's machines), every
# service's image built FROM it, each image started alone against the local RabbitMQ with /health answered,
# then the compose stack (scripts/check-deploy-compose.sh). Exits 3, saying why, when no engine can run a
# container here. Everything it makes lives under var/check-deploy/ and in podman's image store.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$PWD/var/check-deploy"
BASE="${CHECK_DEPLOY_BASE:-localhost/priyom-base:bookworm}"
MIRROR="${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(\S*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SERVICES=(tickets identity router intake-web intake-email intake-messenger intake-telephony portal)
mkdir -p "$WORK"
say() { printf '%s\n' "$*"; }

# --- 1. the engine: podman from Debian (the Docker engine does not run on these machines: docs/deploy.md) --
if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  say "installing podman, runc and debootstrap from Debian's packages"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc debootstrap >"$WORK/apt.log" 2>&1 \
    || { say "apt-get install podman runc debootstrap failed: $(tail -3 "$WORK/apt.log")"; exit 3; }
fi
# Each setting answers an error podman 4.3 gave here with its defaults (root, cgroup v1 plus a cgroup v2
# 'unified' mount holding hugetlb, no CAP_SYS_RESOURCE, no systemd):
#   crun: setrlimit `RLIMIT_NOFILE` / `RLIMIT_NPROC`: Operation not permitted -> limits within the host's own
#   crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2 -> runc
#   no systemd to manage cgroups -> cgroupfs
nofile="$(ulimit -Hn)"; nproc="$(ulimit -Hu)"; [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ] && nproc=4096
cat >"$WORK/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"
say "engine   $(podman --version), runtime runc, cgroupfs, ulimits nofile=$nofile nproc=$nproc"

# --- 2. the base image: Debian's python3 in a virtualenv on PATH (pip works, PEP 668 stays out of the way) -
if ! podman image exists "$BASE"; then
  started=$SECONDS
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || { say "debootstrap failed: $(tail -3 "$WORK/debootstrap.log")"; exit 3; }
  chroot "$rootfs" python3 -m venv /opt/python
  # The host's bundle: on machines behind a TLS-inspecting proxy it holds the proxy's CA, which pip needs.
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python"]' - "$BASE" >/dev/null
  rm -rf "$rootfs"
  say "base     $BASE from Debian bookworm (debootstrap, import) in $((SECONDS - started))s"
fi
if ! out="$(podman run --rm "$BASE" python -c 'import sys; print(sys.version.split()[0])' 2>&1)"; then
  say "NO CONTAINER ENGINE RUNS HERE: podman run $BASE failed: $out"
  exit 3
fi
say "base     runs: Python $out"

# --- 3. every image, FROM the base --------------------------------------------------------------------------
for service in "${SERVICES[@]}"; do
  started=$SECONDS
  podman build --quiet --format docker --network=host --build-arg "BASE_IMAGE=$BASE" \
    -f "services/$service/Dockerfile" -t "priyom/$service:check" . >"$WORK/build-$service.log" 2>&1 \
    || { say "build of priyom/$service failed:"; tail -20 "$WORK/build-$service.log"; exit 1; }
  size="$(podman image inspect --format '{{.Size}}' "priyom/$service:check")"
  say "image    priyom/$service:check built in $((SECONDS - started))s, $((size / 1000000)) MB"
done

# --- 4. each image alone: its default command (migrate, then serve) on SQLite, the local RabbitMQ, /health --
prefix="checkimg$$."
cleanup() {
  for service in "${SERVICES[@]}"; do podman rm -f -v "check-$service" >/dev/null 2>&1 || true; done
  "${VENV:-.venv}/bin/python" -c "import asyncio, sys; from priyom_kit.pytest_plugin import delete_prefixed; \
asyncio.run(delete_prefixed(sys.argv[1], sys.argv[2]))" "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}" "$prefix"
}
trap cleanup EXIT
for service in "${SERVICES[@]}"; do
  port="$("${VENV:-.venv}/bin/python" -c 'from priyom_testing.ports import free_port; print(free_port())')"
  var="$(tr 'a-z-' 'A-Z_' <<<"$service")"
  started=$SECONDS
  podman run -d --name "check-$service" --network=host -e "${var}_HOST=127.0.0.1" -e "${var}_PORT=$port" \
    -e "PRIYOM_BUS_PREFIX=$prefix" -e "INTAKE_EMAIL_SMTP_PORT=$("${VENV:-.venv}/bin/python" -c \
    'from priyom_testing.ports import free_port; print(free_port())')" "priyom/$service:check" >/dev/null 2>>"$WORK/podman-run.log"
  until curl -fsS -m 2 "http://127.0.0.1:$port/health" >"$WORK/health-$service.json" 2>/dev/null; do
    if [ $((SECONDS - started)) -gt 90 ] || [ "$(podman inspect -f '{{.State.Running}}' "check-$service")" != true ]; then
      say "image    priyom/$service: no /health after $((SECONDS - started))s:"; podman logs "check-$service" 2>&1 | tail -20
      exit 1
    fi
    sleep 1
  done
  say "run      priyom/$service:check alone (uid $(podman exec "check-$service" id -u)): /health $(cat "$WORK/health-$service.json") in $((SECONDS - started))s"
  podman rm -f -v "check-$service" >/dev/null 2>>"$WORK/podman-run.log"
done

# --- 5. compose ---------------------------------------------------------------------------------------------
scripts/check-deploy-compose.sh
