#!/usr/bin/env bash
# Makes `prometheus` and `promtool` available for the metrics tests (tests/service/test_promtool.py
# and tests/test_prometheus_e2e.py): installs Debian's `prometheus` package when either is
# missing. Idempotent: with both on PATH it only reports their versions.
#
#   bash .ci/prometheus.sh
#
# Needs root (or sudo) only when it has to install. Progress goes to stderr.
set -euo pipefail

log() { echo "prometheus.sh: $*" >&2; }

have_both() { command -v prometheus >/dev/null && command -v promtool >/dev/null; }

if ! have_both; then
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        log "prometheus/promtool are missing and installing them needs root: apt-get install -y prometheus"
        exit 1
    fi
    command -v apt-get >/dev/null || { log "prometheus/promtool are missing and there is no apt-get"; exit 1; }
    log "installing Debian's prometheus package with apt-get"
    "${as_root[@]}" apt-get update -qq >&2
    # No recommends: the tests need the two binaries, not node-exporter. In a container the
    # package's attempt to start its own daemon is refused by policy-rc.d, which is harmless.
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends prometheus >&2
    have_both || { log "prometheus/promtool still missing after apt-get install"; exit 1; }
fi

log "$(promtool --version 2>&1 | head -n 1)"
log "$(prometheus --version 2>&1 | head -n 1)"
