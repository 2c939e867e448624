#!/usr/bin/env bash
# Start or stop a Docker engine by hand, for machines without systemd (CI containers,
# throw-away VMs). Useful to anyone who has `dockerd` installed (Debian: apt-get install
# docker.io) but no service manager to run it.
#
#   bash scripts/docker-engine.sh start    # start dockerd in the background, wait for it
#   bash scripts/docker-engine.sh stop     # stop the dockerd this script started, wait
#   bash scripts/docker-engine.sh status   # exit 0 when `docker info` answers
#
# Both commands are idempotent. Environment:
#   DOCKERD_STATE_DIR  where the log and pid file go (default /var/tmp/it-template-dockerd,
#                      outside the repository)
#   DOCKERD_TIMEOUT    seconds to wait for `docker info` / for the engine to exit (default 60)
set -euo pipefail

STATE_DIR=${DOCKERD_STATE_DIR:-/var/tmp/it-template-dockerd}
TIMEOUT=${DOCKERD_TIMEOUT:-60}
LOG=$STATE_DIR/dockerd.log
PIDFILE=$STATE_DIR/dockerd.pid

log() { printf 'docker-engine: %s\n' "$*" >&2; }

engine_answers() { docker info >/dev/null 2>&1; }

recorded_pid() {
    local pid
    [[ -s $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    # The pid must still be a dockerd: after a reboot or a killed session it may be reused.
    [[ $pid =~ ^[0-9]+$ ]] && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == dockerd ]] || return 1
    printf '%s\n' "$pid"
}

start() {
    if engine_answers; then
        log "already running ($(docker info --format '{{.ServerVersion}}' 2>/dev/null))"
        return 0
    fi
    command -v dockerd >/dev/null || {
        log "dockerd not found: install it first (Debian: apt-get install -y docker.io)"
        exit 1
    }
    mkdir -p "$STATE_DIR"
    local pid
    if pid=$(recorded_pid); then
        log "dockerd $pid is starting already; waiting for it"
    else
        # A stale pid file left by a killed engine would make dockerd refuse to start.
        [[ -e /var/run/docker.pid ]] &&
            [[ $(cat "/proc/$(cat /var/run/docker.pid)/comm" 2>/dev/null) != dockerd ]] &&
            rm -f /var/run/docker.pid
        log "starting dockerd, log in $LOG"
        nohup dockerd >>"$LOG" 2>&1 </dev/null &
        pid=$!
        printf '%s\n' "$pid" >"$PIDFILE"
    fi
    local start_s=$SECONDS
    until engine_answers; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd exited during start-up; last lines of $LOG:"
            tail -n 20 "$LOG" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        if ((SECONDS - start_s >= TIMEOUT)); then
            log "docker info did not answer within ${TIMEOUT}s; last lines of $LOG:"
            tail -n 20 "$LOG" >&2
            exit 1
        fi
        sleep 0.5
    done
    log "dockerd $pid ready after $((SECONDS - start_s))s ($(docker info --format '{{.ServerVersion}}'))"
}

stop() {
    local pid
    if ! pid=$(recorded_pid); then
        rm -f "$PIDFILE"
        if engine_answers; then
            log "an engine answers but was not started by this script ($PIDFILE); leaving it"
        else
            log "not running"
        fi
        return 0
    fi
    log "stopping dockerd $pid"
    kill -TERM "$pid"
    local start_s=$SECONDS
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS - start_s >= TIMEOUT)); then
            log "dockerd $pid still running after ${TIMEOUT}s; see $LOG"
            exit 1
        fi
        sleep 0.5
    done
    rm -f "$PIDFILE"
    log "stopped after $((SECONDS - start_s))s"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) engine_answers ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
