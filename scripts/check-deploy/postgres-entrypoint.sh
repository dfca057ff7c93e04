#!/bin/sh
# The official postgres image's first-start behaviour, as much as deploy/docker-compose.yml uses of it.
set -eu
bin=/usr/lib/postgresql/15/bin
as_postgres() { su postgres -s /bin/sh -c "$1"; }
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres "$PGDATA" /var/run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  as_postgres "$bin/initdb -U '$POSTGRES_USER' --pwfile='$POSTGRES_PASSWORD_FILE' --auth-local=trust --auth-host=scram-sha-256 -D '$PGDATA'" >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_postgres "$bin/pg_ctl -D '$PGDATA' -o \"-c listen_addresses=''\" -w start" >/dev/null
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] && as_postgres "$bin/psql -v ON_ERROR_STOP=1 -U '$POSTGRES_USER' -d '${POSTGRES_DB:-postgres}' -f '$f'"
  done
  as_postgres "$bin/pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
fi
exec su postgres -s /bin/sh -c "exec $bin/postgres -D '$PGDATA' -c listen_addresses='*'"
