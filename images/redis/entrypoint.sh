#!/bin/bash
# Entry point of the it-template redis image, as the official one: `redis-server` runs as the
# redis user in /data, on 6379, with protected mode off unless a config file sets it.
set -Eeo pipefail

if [[ ${1:0:1} == '-' || ${1%.conf} != "$1" ]]; then
    set -- redis-server "$@"
fi

if [[ $1 == redis-server && $(id -u) == 0 ]]; then
    mkdir -p /data
    chown redis:redis /data 2>/dev/null || true
    exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [[ $1 == redis-server ]]; then
    protected=1
    if [[ -f ${2:-} ]] && grep -q '^protected-mode' "$2"; then
        protected=
    fi
    for arg in "$@"; do
        [[ $arg == --protected-mode ]] && protected=
    done
    if [[ $protected ]]; then
        set -- "$@" --protected-mode no
    fi
    umask 0077
fi

exec "$@"
