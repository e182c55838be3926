#!/usr/bin/env bash
# A throwaway PostgreSQL for the store tests: its own cluster in a temp dir, trust auth,
# listening on 127.0.0.1 only, on a free port. Installs PostgreSQL with apt if it is missing.
#
#   source .ci/postgres.sh            # exports VERBATIM_TEST_POSTGRES_URL into this shell
#   eval "$(.ci/postgres.sh)"         # the same, when run as a program
#   .ci/postgres.sh stop              # stops the cluster and deletes its files
#
# Running it again while the cluster is up reuses it. Settings (environment):
#   VERBATIM_PG_DIR  where the cluster lives (default: ${TMPDIR:-/tmp}/verbatim-pg)
#   VERBATIM_PG_DB   the database to create (default: verbatim_test)
# Only the export line goes to stdout; progress goes to stderr.

_verbatim_pg() (
    set -euo pipefail
    local command=${1:-start}
    local dir=${VERBATIM_PG_DIR:-${TMPDIR:-/tmp}/verbatim-pg}
    local db=${VERBATIM_PG_DB:-verbatim_test}
    local script=${BASH_SOURCE[0]}
    log() { echo "postgres.sh: $*" >&2; }

    find_bindir() {
        local candidate
        # Debian keeps the server binaries off PATH, one directory per major version.
        for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) \
                         "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent)")")"; do
            if [[ -x $candidate/initdb && -x $candidate/pg_ctl && -x $candidate/postgres ]]; then
                echo "$candidate"
                return 0
            fi
        done
        return 1
    }

    # initdb and postgres refuse to run as root, so root runs them as the postgres user.
    as_pg() {
        if [[ $(id -u) -ne 0 ]]; then
            "$@"
        elif command -v runuser >/dev/null; then
            runuser -u postgres -- "$@"
        else
            su -s /bin/sh postgres -c "$(printf '%q ' "$@")"
        fi
    }

    free_port() {
        if command -v python3 >/dev/null; then
            python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
            return
        fi
        local port
        for port in $(seq 54329 54999); do
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                echo "$port"
                return
            fi
        done
        log "no free port found"
        return 1
    }

    local bindir
    if ! bindir=$(find_bindir); then
        [[ $command == stop ]] && { log "PostgreSQL is not installed; nothing to stop"; return 0; }
        if [[ $(id -u) -ne 0 ]]; then
            log "PostgreSQL is not installed and installing it needs root: apt-get install -y postgresql"
            return 1
        fi
        log "installing PostgreSQL with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        bindir=$(find_bindir) || { log "PostgreSQL binaries still missing after apt-get install"; return 1; }
    fi

    local data=$dir/data
    running() { [[ -f $data/PG_VERSION ]] && as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; }

    if [[ $command == stop ]]; then
        if running; then
            as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2
        fi
        rm -rf "$dir"
        log "stopped and removed $dir"
        return 0
    fi
    [[ $command == start ]] || { log "usage: $script [start|stop]"; return 2; }

    if [[ $(id -u) -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    fi

    local port
    if running && [[ -f $dir/port ]]; then
        port=$(<"$dir/port")
        log "reusing the cluster in $dir on port $port"
    else
        if [[ ! -f $data/PG_VERSION ]]; then
            rm -rf "$dir"
            mkdir -p "$dir"
            [[ $(id -u) -eq 0 ]] && chown postgres: "$dir"
            chmod 700 "$dir"
            as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
        fi
        port=$(free_port)
        # fsync=off: this cluster is thrown away, and the tests never crash PostgreSQL itself.
        as_pg "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 \
            || { log "start failed; server log:"; cat "$dir/server.log" >&2 || true; return 1; }
        echo "$port" >"$dir/port"
        log "started a cluster in $dir on 127.0.0.1:$port"
    fi

    local psql=("$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq)
    if [[ $("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db'") != 1 ]]; then
        "${psql[@]}" -c "CREATE DATABASE \"$db\"" >&2
        log "created database $db"
    fi
    log "stop it with: $script stop"
    echo "postgresql+psycopg://postgres@127.0.0.1:$port/$db"
)

_verbatim_pg_entry() {
    local url
    if [[ ${1:-start} == stop ]]; then
        _verbatim_pg stop
        return
    fi
    url=$(_verbatim_pg "$@") || return 1
    export VERBATIM_TEST_POSTGRES_URL=$url
    # CI systems that read exported variables from a file (GitHub Actions) get it too.
    [[ -n ${GITHUB_ENV:-} ]] && echo "VERBATIM_TEST_POSTGRES_URL=$url" >>"$GITHUB_ENV"
    echo "export VERBATIM_TEST_POSTGRES_URL=$url"
}

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    _verbatim_pg_entry "$@" >/dev/null
else
    _verbatim_pg_entry "$@"
fi
