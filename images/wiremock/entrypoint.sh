#!/bin/bash
# Entry point of the it-template wiremock image, as the official one: arguments that start with
# '-' (or none) are WireMock options; JAVA_OPTS go to the JVM, WIREMOCK_OPTIONS after the
# arguments. WireMock serves from the working directory, /home/wiremock.
set -Eeo pipefail

if [[ $# -eq 0 || ${1:0:1} == '-' ]]; then
    # shellcheck disable=SC2086 # JAVA_OPTS and WIREMOCK_OPTIONS are word lists
    set -- java $JAVA_OPTS -cp '/var/wiremock/lib/*:/var/wiremock/extensions/*' wiremock.Run \
        "$@" $WIREMOCK_OPTIONS
fi

exec "$@"
