#!/usr/bin/env bash
# Build PostgreSQL, Redis, MariaDB, RabbitMQ, Memcached, WireMock and LocalStack service images
# from Debian packages, without any container registry. Useful to anyone whose CI cannot pull
# images (air-gapped runners, registry rate limits, mirrors-only networks): the images are
# drop-ins for the official `postgres`, `redis`, `mariadb`, `rabbitmq` and `memcached` images
# (same environment variables, ports and tools), so compose files and Testcontainers work
# unchanged with IT_POSTGRES_IMAGE / IT_REDIS_IMAGE / IT_MYSQL_IMAGE / IT_RABBITMQ_IMAGE /
# IT_MEMCACHED_IMAGE pointing at them. A WireMock image stands in for the official
# `wiremock/wiremock` one (IT_WIREMOCK_IMAGE): Debian's Java 17 runtime and the standalone jar
# of the npm package `wiremock` (`npm pack`, checked against the registry's integrity hash by
# npm). A LocalStack image stands in for `localstack/localstack:4.4` (IT_LOCALSTACK_IMAGE):
# localstack-core 4.4.0 from PyPI, pip-installed on the host into a virtual environment made
# with the same Debian Python 3.11 as the base image's, then copied in. A Python 3.11 image (a
# stand-in for python:3.11-slim) builds the compose file's test-api service (IT_PYTHON_IMAGE).
#
#   1. debootstrap --variant=minbase a Debian rootfs with postgresql-N, redis-server,
#      mariadb-server, rabbitmq-server, memcached and openjdk-17-jre-headless, from the mirror
#      apt is already configured with (skipped when the base image exists and was made with
#      this package list: the list is kept in the base image's it-template.base-packages
#      label, so adding a package rebuilds an older base by itself);
#   2. docker import it as the base image;
#   3. docker build (legacy builder) images/postgres, images/redis, images/mariadb,
#      images/rabbitmq, images/memcached, images/wiremock, images/localstack and images/python
#      FROM that base.
#
# Idempotent: an up-to-date base image skips steps 1-2, and docker's layer cache makes step 3
# cheap. Needs root, debootstrap and a running engine (scripts/docker-engine.sh start).
#
# Environment (all optional):
#   IT_POSTGRES_IMAGE  tag of the postgres image   (default it-template/postgres:15)
#   IT_REDIS_IMAGE     tag of the redis image      (default it-template/redis:7)
#   IT_MYSQL_IMAGE     tag of the mariadb image    (default it-template/mariadb:10.11)
#   IT_RABBITMQ_IMAGE  tag of the rabbitmq image   (default it-template/rabbitmq:3.10)
#   IT_MEMCACHED_IMAGE tag of the memcached image  (default it-template/memcached:1.6)
#   IT_WIREMOCK_IMAGE  tag of the wiremock image   (default it-template/wiremock:3.13.2)
#   IT_LOCALSTACK_IMAGE tag of the localstack image (default it-template/localstack:4.4)
#   IT_PYTHON_IMAGE    tag of the python image     (default it-template/python:3.11)
#   IT_BASE_IMAGE      tag of the imported rootfs  (default it-template/debian-base:<suite>)
#   DEBIAN_SUITE       Debian release              (default: this machine's, e.g. bookworm)
#   DEBIAN_MIRROR      Debian mirror URL           (default: read from /etc/apt/sources.list*)
#   PG_MAJOR           PostgreSQL major version    (default 15, bookworm's)
#   BUILD_ROOT         work dir, outside the repo  (default /var/tmp/it-template-images)
#   REBUILD_BASE=1     debootstrap again even if the base image is up to date
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
POSTGRES_IMAGE=${IT_POSTGRES_IMAGE:-it-template/postgres:$PG_MAJOR}
REDIS_IMAGE=${IT_REDIS_IMAGE:-it-template/redis:7}
MYSQL_IMAGE=${IT_MYSQL_IMAGE:-it-template/mariadb:10.11}
RABBITMQ_IMAGE=${IT_RABBITMQ_IMAGE:-it-template/rabbitmq:3.10}
MEMCACHED_IMAGE=${IT_MEMCACHED_IMAGE:-it-template/memcached:1.6}
PYTHON_IMAGE=${IT_PYTHON_IMAGE:-it-template/python:3.11}
WIREMOCK_VERSION=3.13.2 # the rendered compose file's wiremock/wiremock tag
WIREMOCK_IMAGE=${IT_WIREMOCK_IMAGE:-it-template/wiremock:$WIREMOCK_VERSION}
LOCALSTACK_IMAGE=${IT_LOCALSTACK_IMAGE:-it-template/localstack:4.4}
BUILD_ROOT=${BUILD_ROOT:-/var/tmp/it-template-images}
export DOCKER_BUILDKIT=0

log() { printf 'build-images: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Seconds since the given start, with millisecond precision.
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

# shellcheck source=scripts/lib/debian.sh
. "$HERE/scripts/lib/debian.sh"

SUITE=${DEBIAN_SUITE:-$(default_suite)}
[[ -n $SUITE ]] || die "cannot tell the Debian release; set DEBIAN_SUITE (e.g. bookworm)"
BASE_IMAGE=${IT_BASE_IMAGE:-it-template/debian-base:$SUITE}
ROOTFS=$BUILD_ROOT/rootfs-$SUITE
# Everything the service images need, in one rootfs: one debootstrap, one import, and the
# images share its layer on disk. Changing this list changes the base image's label, which
# makes the next run rebuild the base.
BASE_PACKAGES="postgresql-$PG_MAJOR,postgresql-client-$PG_MAJOR,redis-server,redis-tools"
BASE_PACKAGES+=",mariadb-server,mariadb-client,rabbitmq-server,memcached,ca-certificates"
BASE_PACKAGES+=",python3,python3-venv,openjdk-17-jre-headless,curl"
BASE_LABEL=it-template.base-packages

# The service images' build contexts: images/NAME in the repository.
image_dir() {
    [[ -f $HERE/images/$1/Dockerfile ]] || die "no Dockerfile for $1 in $HERE/images/$1"
    printf '%s\n' "$HERE/images/$1"
}

# Package configuration inside debootstrap's chroot must not leave daemons behind (debootstrap
# installs a policy-rc.d that forbids service starts, but maintainer scripts may still run a
# server by hand, e.g. mariadb-install-db's bootstrap or epmd): kill whatever lives in ROOTFS.
kill_rootfs_processes() {
    local p root pids=()
    for p in /proc/[0-9]*; do
        root=$(readlink "$p/root" 2>/dev/null) || continue
        [[ $root == "$ROOTFS" || $root == "$ROOTFS"/* ]] && pids+=("${p#/proc/}")
    done
    ((${#pids[@]})) || return 0
    log "killing processes left in $ROOTFS: ${pids[*]}"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 0.5
}

command -v docker >/dev/null || die "docker client not found"
docker info >/dev/null 2>&1 || die "no Docker engine answers; start one (bash scripts/docker-engine.sh start)"

# Resolved before the slow part, so that a missing directory fails at once.
POSTGRES_DIR=$(image_dir postgres)
REDIS_DIR=$(image_dir redis)
MARIADB_DIR=$(image_dir mariadb)
RABBITMQ_DIR=$(image_dir rabbitmq)
MEMCACHED_DIR=$(image_dir memcached)
PYTHON_DIR=$(image_dir python)
WIREMOCK_DIR=$(image_dir wiremock)
LOCALSTACK_DIR=$(image_dir localstack)
command -v npm >/dev/null || die "npm not found (apt-get install -y npm): it fetches WireMock's jar"

total_start=$(date +%s.%N)

base_packages=$(docker image inspect --format "{{index .Config.Labels \"$BASE_LABEL\"}}" \
    "$BASE_IMAGE" 2>/dev/null) || base_packages=
old_base_id=
if [[ ${REBUILD_BASE:-0} != 1 && $base_packages == "$BASE_PACKAGES" ]]; then
    log "base image $BASE_IMAGE is up to date: skipping debootstrap and import"
else
    if [[ -n $base_packages || ${REBUILD_BASE:-0} == 1 ]]; then
        log "rebuilding base image $BASE_IMAGE (REBUILD_BASE=1 or packages changed)"
    elif docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE predates the package label: rebuilding it"
    fi
    old_base_id=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE" 2>/dev/null) || old_base_id=
    [[ $(id -u) == 0 ]] || die "debootstrap needs root"
    command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install -y debootstrap)"
    MIRROR=${DEBIAN_MIRROR:-$(default_mirror)}
    [[ -n $MIRROR ]] || die "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR"
    case $BUILD_ROOT in "$HERE" | "$HERE"/*) die "BUILD_ROOT must be outside the repository" ;; esac

    mkdir -p "$BUILD_ROOT"
    # A half-made rootfs from an interrupted run cannot be resumed: start afresh.
    rm -rf "$ROOTFS"
    log "debootstrap $SUITE from $MIRROR into $ROOTFS"
    t=$(date +%s.%N)
    debootstrap --variant=minbase \
        --include="$BASE_PACKAGES" \
        "$SUITE" "$ROOTFS" "$MIRROR" >"$BUILD_ROOT/debootstrap.log" 2>&1 ||
        {
            kill_rootfs_processes
            tail -n 30 "$BUILD_ROOT/debootstrap.log" >&2
            die "debootstrap failed; full log in $BUILD_ROOT/debootstrap.log"
        }
    kill_rootfs_processes
    log "debootstrap: $(elapsed "$t") s ($(du -sh "$ROOTFS" | cut -f1))"

    # The packages' default cluster, datadir and broker state, caches and docs are dead
    # weight in images whose entrypoints initialise their own (a datadir left in the image
    # would also make the mariadb entrypoint skip creating the configured user).
    rm -rf "$ROOTFS"/var/lib/postgresql/* "$ROOTFS"/etc/postgresql/* \
        "$ROOTFS"/var/lib/mysql/* "$ROOTFS"/var/lib/rabbitmq/* "$ROOTFS"/var/lib/rabbitmq/.erlang.cookie \
        "$ROOTFS"/var/log/mysql/* "$ROOTFS"/var/log/rabbitmq/* \
        "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
        "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
    find "$ROOTFS"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
    for f in "usr/lib/postgresql/$PG_MAJOR/bin/postgres" usr/bin/redis-server usr/sbin/mariadbd \
        usr/lib/rabbitmq/bin/rabbitmq-server usr/bin/memcached usr/bin/python3 usr/bin/java; do
        [[ -x $ROOTFS/$f ]] || die "/$f did not install into $ROOTFS"
    done

    log "docker import as $BASE_IMAGE"
    t=$(date +%s.%N)
    tar -C "$ROOTFS" --numeric-owner -c . |
        docker import --message "debootstrap $SUITE minbase + ${BASE_PACKAGES//,/ }" \
            --change "LABEL $BASE_LABEL=\"$BASE_PACKAGES\"" - "$BASE_IMAGE" >/dev/null
    log "import: $(elapsed "$t") s"
    rm -rf "$ROOTFS"
fi

# The legacy builder's deprecation notice goes to stderr: show the output only on failure.
build() {
    local tag=$1 dir=$2 out
    shift 2
    log "docker build $tag"
    out=$(docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@" -t "$tag" "$dir" 2>&1) ||
        {
            printf '%s\n' "$out" >&2
            die "docker build $tag failed"
        }
}

# images/wiremock with the jar of the npm package beside it, in a context outside the repository
# (the tarball is kept by version, so a rebuild fetches nothing).
wiremock_context() {
    local context=$BUILD_ROOT/wiremock-context package=$BUILD_ROOT/npm/wiremock-$WIREMOCK_VERSION.tgz
    if [[ ! -s $package ]]; then
        mkdir -p "$BUILD_ROOT/npm"
        (cd "$BUILD_ROOT/npm" && npm pack --silent "wiremock@$WIREMOCK_VERSION" >/dev/null) ||
            die "npm pack wiremock@$WIREMOCK_VERSION failed"
    fi
    rm -rf "$context"
    mkdir -p "$context"
    cp "$WIREMOCK_DIR"/* "$context"/
    tar -xzf "$package" -C "$context" --strip-components=2 \
        "package/build/wiremock-standalone-$WIREMOCK_VERSION.jar"
    mv "$context/wiremock-standalone-$WIREMOCK_VERSION.jar" "$context/wiremock-standalone.jar"
    printf '%s\n' "$context"
}

# images/localstack with a virtual environment of LocalStack's runtime beside it. The environment
# is made with Debian's own Python, the one the base image has at the same path, and kept while
# its requirements are unchanged (a stamp holds their hash), so a rebuild installs nothing.
localstack_context() {
    local context=$BUILD_ROOT/localstack-context venv=$BUILD_ROOT/localstack-venv wanted
    wanted=$(sha256sum "$LOCALSTACK_DIR/requirements.txt" | cut -d' ' -f1)
    if [[ $(cat "$venv/.it-template-requirements" 2>/dev/null) != "$wanted" ]]; then
        log "pip install LocalStack's runtime into $venv"
        rm -rf "$venv"
        /usr/bin/python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install -y python3-venv)"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$LOCALSTACK_DIR/requirements.txt" \
            2> >(grep -v "^WARNING: Location" >&2) || die "pip install of LocalStack's runtime failed"
        printf '%s\n' "$wanted" >"$venv/.it-template-requirements"
    fi
    rm -rf "$context"
    mkdir -p "$context"
    cp "$LOCALSTACK_DIR"/* "$context"/
    cp -al "$venv" "$context/venv" # hard links: the context costs no copy
    printf '%s\n' "$context"
}

t=$(date +%s.%N)
build "$POSTGRES_IMAGE" "$POSTGRES_DIR" --build-arg "PG_MAJOR=$PG_MAJOR"
build "$REDIS_IMAGE" "$REDIS_DIR"
build "$MYSQL_IMAGE" "$MARIADB_DIR"
build "$RABBITMQ_IMAGE" "$RABBITMQ_DIR"
build "$MEMCACHED_IMAGE" "$MEMCACHED_DIR"
build "$PYTHON_IMAGE" "$PYTHON_DIR"
build "$WIREMOCK_IMAGE" "$(wiremock_context)" --build-arg "WIREMOCK_VERSION=$WIREMOCK_VERSION"
build "$LOCALSTACK_IMAGE" "$(localstack_context)"
log "build: $(elapsed "$t") s"
# Earlier builds of these tags, now untagged, are of no use to anyone; nor is a replaced base
# image once nothing is built on it (docker refuses while a container still uses it).
docker image prune -f --filter "label=it-template.image" >/dev/null
if [[ -n $old_base_id ]] && [[ $(docker image inspect --format '{{.Id}}' "$BASE_IMAGE") != "$old_base_id" ]]; then
    docker image rm "$old_base_id" >/dev/null 2>&1 || true
fi

docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' |
    grep -F -e "$BASE_IMAGE" -e "$POSTGRES_IMAGE" -e "$REDIS_IMAGE" -e "$MYSQL_IMAGE" \
        -e "$RABBITMQ_IMAGE" -e "$MEMCACHED_IMAGE" -e "$PYTHON_IMAGE" -e "$WIREMOCK_IMAGE" \
        -e "$LOCALSTACK_IMAGE" >&2 || true
log "total: $(elapsed "$total_start") s"
