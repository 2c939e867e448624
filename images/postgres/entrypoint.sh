#!/bin/bash
# Entry point of the it-template postgres image: the official image's contract, in short.
#   POSTGRES_PASSWORD          required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER              superuser (default postgres)
#   POSTGRES_DB                database created on first start (default $POSTGRES_USER)
#   PGDATA                     cluster directory (default /var/lib/postgresql/data)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for TCP clients (default scram-sha-256)
#   POSTGRES_INITDB_ARGS       extra initdb arguments
#   /docker-entrypoint-initdb.d/*.sh|*.sql  run once, after the database is created
# The server listens on * port 5432 and keeps its socket in /var/run/postgresql.
set -Eeo pipefail

log() { printf '%s entrypoint: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$*" >&2; }

if [[ ${1:0:1} == '-' ]]; then
    set -- postgres "$@"
fi

if [[ $1 != postgres ]]; then
    exec "$@"
fi

export PGDATA=${PGDATA:-/var/lib/postgresql/data}
export POSTGRES_USER=${POSTGRES_USER:-postgres}
export POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
export POSTGRES_HOST_AUTH_METHOD=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

if [[ $(id -u) == 0 ]]; then
    # Directories first (PGDATA may be a fresh tmpfs owned by root), then drop to postgres.
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 0700 "$PGDATA"
    chmod 3777 /var/run/postgresql
    exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ ! -s $PGDATA/PG_VERSION ]]; then
    if [[ -z ${POSTGRES_PASSWORD:-} && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
        log "error: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust for tests only)"
        exit 1
    fi
    log "initdb in $PGDATA for user $POSTGRES_USER"
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as upstream.
    initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" $POSTGRES_INITDB_ARGS >/dev/null
    rm -f "$pwfile"
    {
        echo
        echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
    } >>"$PGDATA/pg_hba.conf"
    {
        echo
        echo "listen_addresses = '*'"
        echo "port = 5432"
        echo "unix_socket_directories = '/var/run/postgresql'"
    } >>"$PGDATA/postgresql.conf"

    # A temporary server on the socket only, so that nobody connects before the database
    # exists (TCP health checks stay red until the real server starts).
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p 5432" start >/dev/null
    psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres)
    if [[ $POSTGRES_DB != postgres ]]; then
        exists=$("${psql[@]}" -tA --set db="$POSTGRES_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
        if [[ -z $exists ]]; then
            "${psql[@]}" --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >/dev/null
        fi
    fi
    for f in /docker-entrypoint-initdb.d/*; do
        case $f in
        *.sh)
            log "running $f"
            # shellcheck source=/dev/null
            . "$f"
            ;;
        *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
        *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
        *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    log "PostgreSQL init process complete; ready for start up."
fi

exec "$@"
