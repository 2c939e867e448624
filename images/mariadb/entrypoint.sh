#!/bin/bash
# Entry point of the it-template mariadb image: the official image's contract, in short. Every
# variable has a MARIADB_ name and a MYSQL_ alias (the MARIADB_ one wins):
#   MARIADB_ROOT_PASSWORD             root's password (root@localhost and root@ROOT_HOST)
#   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD  (MYSQL_ALLOW_EMPTY_PASSWORD) any value: root without one
#   MARIADB_RANDOM_ROOT_PASSWORD      any value: a random root password, printed to the log
#   MARIADB_ROOT_HOST                 host part of the remote root account (default %)
#   MARIADB_DATABASE                  database created on first start
#   MARIADB_USER, MARIADB_PASSWORD    user created on first start, with ALL on MARIADB_DATABASE
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz|*.sql.xz|*.sql.zst  run once, as root
# One of the three root password variables is required. Arguments that start with '-' are
# server options (`docker run IMAGE --innodb-flush-log-at-trx-commit=0`); they apply to the
# first-start initialisation too. The datadir (default /var/lib/mysql, or --datadir=) is
# initialised when it holds no `mysql` directory, so an empty tmpfs there works.
#
# As in the official image, initialisation runs a temporary server without networking (on its
# own socket, /run/mysqld/mysqld-init.sock here, so no health check can reach it), then stops
# it and execs the real one: "ready for connections" is logged twice on a first start, which
# is what Testcontainers' MySqlContainer waits for; TCP clients (and `mariadb-admin ping -h
# 127.0.0.1`) get an answer only once the users exist.
#
# Grants: exactly the official ones (ALL on MARIADB_DATABASE for MARIADB_USER), plus ALL on
# the databases named MARIADB_DATABASE_<anything> (the LIKE pattern `<db>\_%`), so that a test
# suite can create and drop one copy of its database per worker (test_x_gw0, test_x_gw1, ...)
# as the configured user. That pattern is the narrowest grant that allows it; ALL ON *.* would
# let tests pass here that fail against the official image for other reasons (mysql.*,
# SUPER). Suites meant to run on the official image too should create such databases as
# root, or grant the same pattern in a /docker-entrypoint-initdb.d/*.sql file of their own.
# Time zone tables are not loaded (MARIADB_INITDB_SKIP_TZINFO is always on): the image has no
# tzdata, so use offsets or SYSTEM/UTC.
set -Eeo pipefail

log() { printf '%s [Note] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$*" >&2; }
warn() { printf '%s [Warn] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$*" >&2; }
error() {
    printf '%s [ERROR] [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S+00:00')" "$*" >&2
    exit 1
}

# PID 1 ignores the signals it has no handler for: until the server is exec'd, `docker stop`
# (SIGTERM) ends the entrypoint, and the temporary server with it, instead of waiting for the
# kill after the stop timeout.
temp_pid=
on_stop() {
    if [[ -n $temp_pid ]]; then
        kill -TERM "$temp_pid" 2>/dev/null
        wait "$temp_pid"
    fi
    exit 143
}
trap on_stop TERM INT

if [[ ${1:0:1} == '-' ]]; then
    set -- mariadbd "$@"
fi
if [[ $1 != mariadbd && $1 != mysqld ]]; then
    exec "$@"
fi
for arg; do
    case $arg in
    '-?' | --help | --print-defaults | -V | --version) exec "$@" ;;
    *) ;;
    esac
done

# The datadir and socket, from the arguments if given there (my.cnf says the defaults).
DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
for arg; do
    case $arg in
    --datadir=*) DATADIR=${arg#*=} ;;
    --socket=*) SOCKET=${arg#*=} ;;
    *) ;;
    esac
done
INIT_SOCKET=$(dirname "$SOCKET")/mysqld-init.sock

if [[ $(id -u) == 0 ]]; then
    # Directories first (the datadir may be a fresh tmpfs owned by root), then drop to mysql.
    mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
    chown mysql:mysql "$DATADIR" "$(dirname "$SOCKET")"
    exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
fi

# MARIADB_X, else its MYSQL_ alias.
env_alias() {
    local name=$1 alias=$2
    if [[ -z ${!name:-} && -n ${!alias:-} ]]; then
        export "$name=${!alias}"
    fi
}
env_alias MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD
env_alias MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD
env_alias MARIADB_RANDOM_ROOT_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD
env_alias MARIADB_ROOT_HOST MYSQL_ROOT_HOST
env_alias MARIADB_DATABASE MYSQL_DATABASE
env_alias MARIADB_USER MYSQL_USER
env_alias MARIADB_PASSWORD MYSQL_PASSWORD
MARIADB_ROOT_HOST=${MARIADB_ROOT_HOST:-%}

# A string literal's contents, and an identifier's, for SQL (NO_BACKSLASH_ESCAPES is off).
sql_string() {
    local s=${1//\\/\\\\}
    printf '%s' "${s//\'/\\\'}"
}
sql_ident() { printf '%s' "${1//\`/\`\`}"; }
# A database name as a GRANT pattern that matches only itself.
grant_pattern() {
    local s=${1//\\/\\\\}
    s=${s//_/\\_}
    s=${s//%/\\%}
    sql_ident "$s"
}

init_datadir() {
    if [[ -z ${MARIADB_ROOT_PASSWORD:-} && -z ${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-} &&
        -z ${MARIADB_RANDOM_ROOT_PASSWORD:-} ]]; then
        error "Database is uninitialized and password option is not specified
    You need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD"
    fi
    if [[ ${MARIADB_USER:-} == root ]]; then
        error "MARIADB_USER=\"root\", MARIADB_USER and MARIADB_PASSWORD are for configuring the regular, non-root user"
    fi
    if [[ -n ${MARIADB_USER:-} && -z ${MARIADB_PASSWORD:-} ]]; then
        warn "MARIADB_USER set without MARIADB_PASSWORD: the user has an empty password"
    fi
    if [[ -n ${MARIADB_RANDOM_ROOT_PASSWORD:-} && -z ${MARIADB_ROOT_PASSWORD:-} ]]; then
        MARIADB_ROOT_PASSWORD=$(tr -dc '[:alnum:]' </dev/urandom | head -c 32 || true)
        log "GENERATED ROOT PASSWORD: $MARIADB_ROOT_PASSWORD"
    fi

    log "Initializing database files in $DATADIR"
    local out
    out=$(mariadb-install-db --datadir="$DATADIR" --rpm --auth-root-authentication-method=normal \
        "${@:2}" --skip-test-db --default-time-zone=SYSTEM --enforce-storage-engine= --skip-log-bin \
        --expire-logs-days=0 --loose-innodb_buffer_pool_load_at_startup=0 \
        --loose-innodb_buffer_pool_dump_at_shutdown=0 2>&1) ||
        {
            printf '%s\n' "$out" >&2
            error "mariadb-install-db failed"
        }
    log "Database files initialized"

    log "Starting temporary server"
    rm -f "$INIT_SOCKET"
    "$@" --skip-networking --default-time-zone=SYSTEM --socket="$INIT_SOCKET" --wsrep_on=OFF \
        --expire-logs-days=0 --skip-log-bin --loose-innodb_buffer_pool_load_at_startup=0 \
        --loose-innodb_buffer_pool_dump_at_shutdown=0 &
    temp_pid=$!
    local i
    for ((i = 0; i < 600; i++)); do
        mariadb-admin --socket="$INIT_SOCKET" -uroot --silent ping >/dev/null 2>&1 && break
        kill -0 "$temp_pid" 2>/dev/null || error "the temporary server exited during start-up"
        sleep 0.1
    done
    ((i < 600)) || error "the temporary server did not answer within 60 s"
    log "Temporary server started."

    local client=(mariadb --protocol=socket --socket="$INIT_SOCKET" -uroot -hlocalhost
        --batch --skip-column-names)
    local root_pw user_pw db
    root_pw=$(sql_string "${MARIADB_ROOT_PASSWORD:-}")
    {
        echo "SET @@SESSION.SQL_LOG_BIN=0;"
        echo "SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');"
        echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
        # shellcheck disable=SC2028  # the backslashes are SQL's, meant literally.
        echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\\'', @@hostname, '\\'');"
        if [[ -n ${MARIADB_ROOT_PASSWORD:-} ]]; then
            echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_pw');"
        fi
        if [[ $MARIADB_ROOT_HOST != localhost ]]; then
            local host
            host=$(sql_string "$MARIADB_ROOT_HOST")
            echo "CREATE USER 'root'@'$host' IDENTIFIED BY '$root_pw';"
            echo "GRANT ALL ON *.* TO 'root'@'$host' WITH GRANT OPTION;"
            echo "GRANT PROXY ON ''@'%' TO 'root'@'$host' WITH GRANT OPTION;"
        fi
        if [[ -n ${MARIADB_DATABASE:-} ]]; then
            log "Creating database ${MARIADB_DATABASE}"
            echo "CREATE DATABASE IF NOT EXISTS \`$(sql_ident "$MARIADB_DATABASE")\`;"
        fi
        if [[ -n ${MARIADB_USER:-} ]]; then
            log "Creating user ${MARIADB_USER}"
            user_pw=$(sql_string "${MARIADB_PASSWORD:-}")
            echo "CREATE USER '$(sql_string "$MARIADB_USER")'@'%' IDENTIFIED BY '$user_pw';"
            if [[ -n ${MARIADB_DATABASE:-} ]]; then
                log "Giving user ${MARIADB_USER} access to schema ${MARIADB_DATABASE} (and ${MARIADB_DATABASE}_*)"
                db=$(grant_pattern "$MARIADB_DATABASE")
                echo "GRANT ALL ON \`$db\`.* TO '$(sql_string "$MARIADB_USER")'@'%';"
                echo "GRANT ALL ON \`$db\\_%\`.* TO '$(sql_string "$MARIADB_USER")'@'%';"
            fi
        fi
    } | "${client[@]}" || error "creating the users and database failed"

    # From here on root has its password.
    export MYSQL_PWD=${MARIADB_ROOT_PASSWORD:-}
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        [[ -e $f ]] || continue
        log "running $f"
        case $f in
        *.sh)
            if [[ -x $f ]]; then
                "$f"
            else
                # shellcheck source=/dev/null
                . "$f"
            fi
            ;;
        *.sql) "${client[@]}" ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} <"$f" ;;
        *.sql.gz) gunzip -c "$f" | "${client[@]}" ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
        *.sql.xz) xzcat "$f" | "${client[@]}" ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
        *.sql.zst) zstd -dc "$f" | "${client[@]}" ${MARIADB_DATABASE:+--database="$MARIADB_DATABASE"} ;;
        *) log "ignoring $f" ;;
        esac
    done
    unset MYSQL_PWD

    log "Stopping temporary server"
    kill -TERM "$temp_pid"
    wait "$temp_pid" || error "the temporary server did not stop cleanly"
    temp_pid=
    log "Temporary server stopped"
    log "MariaDB init process done. Ready for start up."
}

if [[ ! -d $DATADIR/mysql ]]; then
    init_datadir "$@"
fi

exec "$@"
