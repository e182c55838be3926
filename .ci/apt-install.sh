#!/usr/bin/env bash
# Installs Debian packages for the tests, without recommends, as root or through passwordless sudo:
#
#   bash .ci/apt-install.sh PACKAGE...
#
# Used by .ci/prometheus.sh and .ci/chromium.sh when their binaries are missing. Progress goes to stderr.
set -euo pipefail

log() { echo "apt-install.sh: $*" >&2; }

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    log "installing $* needs root: apt-get install -y --no-install-recommends $*"
    exit 1
fi
command -v apt-get >/dev/null || { log "cannot install $*: there is no apt-get"; exit 1; }
log "installing Debian's $* with apt-get"
"${as_root[@]}" apt-get update -qq >&2
# In a container, a package's attempt to start its own daemon is refused by policy-rc.d, which is harmless.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
