# A stand-in for the official rabbitmq:3.13-management image, for scripts/check-deploy-compose.sh only:
# Debian's RabbitMQ (3.10) with the management plugin, reading /etc/rabbitmq/rabbitmq.conf and conf.d/ as the
# official image does (deploy/docker-compose.yml mounts the default user there as a secret).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rabbitmq-server \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /etc/rabbitmq/conf.d \
 && rabbitmq-plugins --offline enable rabbitmq_management >/dev/null
ENV RABBITMQ_CONFIG_FILES=/etc/rabbitmq/conf.d
CMD ["rabbitmq-server"]
