# A stand-in for the official postgres image, for scripts/check-deploy-compose.sh only (no registry is
# reachable from the project's machines): Debian's PostgreSQL, and the parts of the official entrypoint
# deploy/docker-compose.yml relies on (POSTGRES_USER, POSTGRES_PASSWORD_FILE, POSTGRES_DB, the SQL files
# in /docker-entrypoint-initdb.d run once on an empty data directory, pg_isready on PATH).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/postgresql/data /docker-entrypoint-initdb.d \
 && chown postgres /var/lib/postgresql/data
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
