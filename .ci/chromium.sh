#!/usr/bin/env bash
# Makes `chromium` available for the report page's browser test
# (tests/analytics/render/test_page_browser.py, driven by playwright against the system browser):
# installs Debian's `chromium` package when it is missing. Idempotent: with chromium on PATH it only
# reports its version. Playwright's own browser downloads are never used.
#
#   bash .ci/chromium.sh
#
# Needs root (or sudo) only when it has to install. Progress goes to stderr.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

if ! command -v chromium >/dev/null; then
    bash "$(dirname "$0")/apt-install.sh" chromium
    command -v chromium >/dev/null || { log "chromium still missing after apt-get install"; exit 1; }
fi

# `chromium --version` goes through Debian's wrapper script, which may complain on stderr; keep stdout.
log "$(chromium --version 2>/dev/null | head -n 1)"
