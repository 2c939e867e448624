#!/bin/bash
# Entry point of the it-template memcached image, as the official one: arguments that start
# with '-' are memcached options (`docker run IMAGE -m 64 -c 1024`). The image runs as the
# memcache user; memcached listens on all interfaces, port 11211, unless told otherwise.
set -Eeo pipefail

if [[ ${1:0:1} == '-' ]]; then
    set -- memcached "$@"
fi

exec "$@"
