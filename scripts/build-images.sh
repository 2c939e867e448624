#!/usr/bin/env bash
# Build PostgreSQL and Redis service images from Debian packages, without any container
# registry. Useful to anyone whose CI cannot pull images (air-gapped runners, registry rate
# limits, mirrors-only networks): the images are drop-ins for the official `postgres` and
# `redis` images (same environment variables, ports and tools), so compose files and
# Testcontainers work unchanged with IT_POSTGRES_IMAGE / IT_REDIS_IMAGE pointing at them.
#
#   1. debootstrap --variant=minbase a Debian rootfs with postgresql-N and redis-server, from
#      the mirror apt is already configured with (skipped when the base image exists);
#   2. docker import it as the base image;
#   3. docker build (legacy builder) images/postgres and images/redis FROM that base.
#
# Idempotent: an existing base image skips steps 1-2, and docker's layer cache makes step 3
# cheap. Needs root, debootstrap and a running engine (scripts/docker-engine.sh start).
#
# Environment (all optional):
#   IT_POSTGRES_IMAGE  tag of the postgres image   (default it-template/postgres:15)
#   IT_REDIS_IMAGE     tag of the redis image      (default it-template/redis:7)
#   IT_BASE_IMAGE      tag of the imported rootfs  (default it-template/debian-base:<suite>)
#   DEBIAN_SUITE       Debian release              (default: this machine's, e.g. bookworm)
#   DEBIAN_MIRROR      Debian mirror URL           (default: read from /etc/apt/sources.list*)
#   PG_MAJOR           PostgreSQL major version    (default 15, bookworm's)
#   BUILD_ROOT         work dir, outside the repo  (default /var/tmp/it-template-images)
#   REBUILD_BASE=1     debootstrap again even if the base image exists
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_MAJOR=${PG_MAJOR:-15}
POSTGRES_IMAGE=${IT_POSTGRES_IMAGE:-it-template/postgres:$PG_MAJOR}
REDIS_IMAGE=${IT_REDIS_IMAGE:-it-template/redis:7}
BUILD_ROOT=${BUILD_ROOT:-/var/tmp/it-template-images}
export DOCKER_BUILDKIT=0

log() { printf 'build-images: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Seconds since the given start, with millisecond precision.
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

default_suite() {
    # shellcheck disable=SC1091
    (. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-}")
}

# The first Debian mirror (not the security archive) apt is configured with, from deb822
# .sources files or one-line sources.list entries.
default_mirror() {
    local f
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        awk '
            /^[[:space:]]*#/ { next }
            /^URIs:/ { for (i = 2; i <= NF; i++) print $i; next }
            /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }
        ' "$f"
    done | grep -v -e security -e '^$' | grep -E '/debian/?$' | head -n 1
}

SUITE=${DEBIAN_SUITE:-$(default_suite)}
[[ -n $SUITE ]] || die "cannot tell the Debian release; set DEBIAN_SUITE (e.g. bookworm)"
BASE_IMAGE=${IT_BASE_IMAGE:-it-template/debian-base:$SUITE}
ROOTFS=$BUILD_ROOT/rootfs-$SUITE

command -v docker >/dev/null || die "docker client not found"
docker info >/dev/null 2>&1 || die "no Docker engine answers; start one (bash scripts/docker-engine.sh start)"

total_start=$(date +%s.%N)

if [[ ${REBUILD_BASE:-0} != 1 ]] && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE exists: skipping debootstrap and import"
else
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
        --include="postgresql-$PG_MAJOR,postgresql-client-$PG_MAJOR,redis-server,redis-tools,ca-certificates" \
        "$SUITE" "$ROOTFS" "$MIRROR" >"$BUILD_ROOT/debootstrap.log" 2>&1 ||
        {
            tail -n 30 "$BUILD_ROOT/debootstrap.log" >&2
            die "debootstrap failed; full log in $BUILD_ROOT/debootstrap.log"
        }
    log "debootstrap: $(elapsed "$t") s ($(du -sh "$ROOTFS" | cut -f1))"

    # The package's default cluster, caches and docs are dead weight in an image whose
    # entrypoint runs its own initdb.
    rm -rf "$ROOTFS"/var/lib/postgresql/* "$ROOTFS"/etc/postgresql/* \
        "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
        "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
    find "$ROOTFS"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
    [[ -x $ROOTFS/usr/lib/postgresql/$PG_MAJOR/bin/postgres ]] ||
        die "postgresql-$PG_MAJOR did not install into $ROOTFS"

    log "docker import as $BASE_IMAGE"
    t=$(date +%s.%N)
    tar -C "$ROOTFS" --numeric-owner -c . |
        docker import --message "debootstrap $SUITE minbase + postgresql-$PG_MAJOR redis-server" \
            - "$BASE_IMAGE" >/dev/null
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

t=$(date +%s.%N)
build "$POSTGRES_IMAGE" "$HERE/images/postgres" --build-arg "PG_MAJOR=$PG_MAJOR"
build "$REDIS_IMAGE" "$HERE/images/redis"
log "build: $(elapsed "$t") s"
# Earlier builds of these tags, now untagged, are of no use to anyone.
docker image prune -f --filter "label=it-template.image" >/dev/null

docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.ID}}  {{.Size}}' |
    grep -F -e "$BASE_IMAGE" -e "$POSTGRES_IMAGE" -e "$REDIS_IMAGE" >&2 || true
log "total: $(elapsed "$total_start") s"
