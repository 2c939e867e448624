#!/bin/bash
# Entry point of the it-template localstack image: LocalStack's runtime on 0.0.0.0:4566 with the
# settings of a throw-away test server (no DNS server, no persistence, nothing downloaded at
# start), each one overridable from the environment. Arguments replace the command.
set -Eeo pipefail

: "${GATEWAY_LISTEN:=0.0.0.0:4566}"
: "${EAGER_SERVICE_LOADING:=1}"
: "${SKIP_SSL_CERT_DOWNLOAD:=1}"
: "${DISABLE_EVENTS:=1}"
: "${DNS_ADDRESS:=0}"
: "${PERSISTENCE:=0}"
: "${LOCALSTACK_VOLUME_DIR:=/var/lib/localstack}"
export GATEWAY_LISTEN EAGER_SERVICE_LOADING SKIP_SSL_CERT_DOWNLOAD DISABLE_EVENTS DNS_ADDRESS \
    PERSISTENCE LOCALSTACK_VOLUME_DIR

if [[ $# -eq 0 ]]; then
    set -- /opt/localstack/bin/python -m localstack.runtime.main
fi

exec "$@"
