#!/usr/bin/env bash
# Pythons this machine's Debian does not have (3.14, 3.15), from Debian forky, in a root of
# their own: the host's packages are not touched.
#
#   bash scripts/newer-pythons.sh            make the root (or keep an up-to-date one), print it
#   bash scripts/newer-pythons.sh run CMD..  run CMD inside the root, in the current directory
#
# `run` works in a mount namespace of its own (unshare), so nothing it mounts outlives it:
# /dev, /proc, /tmp, the repository, /root/.cache (pip's and uv's caches) and this machine's
# package-index configuration (/etc/pip.conf, /opt/wheels, /opt/pypi*, /etc/ssl/certs) appear
# at the same paths inside, and the network is the host's, so servers a command starts there
# listen on the host's loopback. tests/test_suite_runs.py renders the template and runs the
# suite on each offered Python this way.
#
# Needs root, debootstrap and unshare. Bookworm's debootstrap has no script named forky, so
# sid's is used (the same as Debian's own instructions for a testing root).
#
# Environment (all optional):
#   NEWER_PYTHONS_ROOT  the root    (default /var/tmp/it-template-forky)
#   DEBIAN_MIRROR       mirror URL  (default: read from /etc/apt/sources.list*)
#   REBUILD_ROOT=1      debootstrap again even if the root is up to date
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${NEWER_PYTHONS_ROOT:-/var/tmp/it-template-forky}
SUITE=forky
PACKAGES=python3.14,python3.14-venv,python3.15,python3.15-venv
STAMP=$ROOT/.it-template-packages

log() { printf 'newer-pythons: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# shellcheck source=scripts/lib/debian.sh
. "$HERE/scripts/lib/debian.sh"

make_root() {
    if [[ ${REBUILD_ROOT:-0} != 1 && -f $STAMP && $(cat "$STAMP") == "$PACKAGES" ]]; then
        log "$ROOT is up to date ($PACKAGES)"
        printf '%s\n' "$ROOT"
        return
    fi
    [[ $(id -u) == 0 ]] || die "debootstrap needs root"
    command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install -y debootstrap)"
    local mirror=${DEBIAN_MIRROR:-$(default_mirror)} script=/usr/share/debootstrap/scripts/sid
    [[ -n $mirror ]] || die "no Debian mirror in /etc/apt/sources.list*; set DEBIAN_MIRROR"
    [[ -f $script ]] || die "debootstrap has no script for sid ($script)"
    case $ROOT in "$HERE" | "$HERE"/*) die "NEWER_PYTHONS_ROOT must be outside the repository" ;; esac
    # A half-made root from an interrupted run cannot be resumed: start afresh.
    rm -rf "$ROOT"
    log "debootstrap $SUITE ($PACKAGES) from $mirror into $ROOT"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$mirror" "$script" \
        >"$ROOT.log" 2>&1 || die "debootstrap failed; its log is $ROOT.log"
    printf '%s\n' "$PACKAGES" >"$STAMP"
    log "ready: $("$0" run python3.14 -V) and $("$0" run python3.15 -V)"
    printf '%s\n' "$ROOT"
}

# Inside the new mount namespace: mount what the command needs, then chroot into the root.
enter() {
    local root=$1 cwd=$2 path
    shift 2
    mount --rbind /dev "$root/dev"
    mount -t proc proc "$root/proc"
    for path in /tmp "$HERE" /root/.cache /opt/wheels /opt/pypi /opt/pypi-more /etc/ssl/certs; do
        [[ -d $path ]] || continue
        mkdir -p "$root$path"
        mount --rbind "$path" "$root$path"
    done
    for path in /etc/pip.conf /etc/resolv.conf /etc/hosts; do
        [[ -f $path ]] || continue
        touch "$root$path"
        mount --bind "$path" "$root$path"
    done
    [[ -d $root$cwd ]] || cwd=/
    exec chroot "$root" /usr/bin/env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
}

case ${1:-} in
"") make_root ;;
run)
    shift
    (($#)) || die "run needs a command"
    [[ -f $STAMP ]] || die "there is no root at $ROOT yet: run bash scripts/newer-pythons.sh"
    exec unshare --mount --propagation private -- bash "$0" __enter "$ROOT" "$PWD" "$@"
    ;;
__enter)
    shift
    enter "$@"
    ;;
*) die "unknown command $1 (none, or run CMD...)" ;;
esac
