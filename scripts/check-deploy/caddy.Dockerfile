# A stand-in for the official caddy:2 image, for scripts/check-deploy-compose.sh only: Debian's Caddy 2,
# started as the official image starts it (the Caddyfile at /etc/caddy/Caddyfile, state in /data).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends caddy \
 && rm -rf /var/lib/apt/lists/*
ENV XDG_DATA_HOME=/data XDG_CONFIG_HOME=/config
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
