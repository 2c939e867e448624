#!/bin/bash
# Entry point of the it-template rabbitmq image, as the official one: `rabbitmq-server` runs
# as the rabbitmq user with its state in /var/lib/rabbitmq (HOME, created and handed over at
# start, so a tmpfs there works). The broker itself reads RABBITMQ_DEFAULT_USER,
# RABBITMQ_DEFAULT_PASS, RABBITMQ_DEFAULT_VHOST, RABBITMQ_NODE_PORT and RABBITMQ_NODENAME.
# The Erlang cookie is RABBITMQ_ERLANG_COOKIE when set, else a random one, written before the
# broker starts so that rabbitmqctl / rabbitmq-diagnostics (health checks) share it at once.
set -Eeo pipefail

if [[ ${1:0:1} == '-' ]]; then
    set -- rabbitmq-server "$@"
fi

if [[ $1 == rabbitmq-server && $(id -u) == 0 ]]; then
    mkdir -p "$HOME" /var/log/rabbitmq
    chown rabbitmq:rabbitmq "$HOME" /var/log/rabbitmq
    exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ $1 == rabbitmq-server ]]; then
    cookie=$HOME/.erlang.cookie
    if [[ -n ${RABBITMQ_ERLANG_COOKIE:-} ]]; then
        rm -f "$cookie"
        printf '%s' "$RABBITMQ_ERLANG_COOKIE" >"$cookie"
    elif [[ ! -s $cookie ]]; then
        rm -f "$cookie"
        LC_ALL=C tr -dc '[:upper:]' </dev/urandom | head -c 20 >"$cookie" || true
    fi
    chmod 0400 "$cookie"
    unset RABBITMQ_ERLANG_COOKIE
    # The broker's own script, not Debian's su wrapper: it traps SIGTERM and stops the node
    # cleanly (rabbitmqctl-style), so `docker stop` is quick.
    shift
    set -- /usr/lib/rabbitmq/bin/rabbitmq-server "$@"
fi

exec "$@"
