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
    bash "$(dirname "$0")/apt-install.sh" prometheus
    have_both || { log "prometheus/promtool still missing after apt-get install"; exit 1; }
fi

log "$(promtool --version 2>&1 | head -n 1)"
log "$(prometheus --version 2>&1 | head -n 1)"
