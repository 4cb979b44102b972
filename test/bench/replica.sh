#!/usr/bin/env bash
# test/bench/replica.sh: queries per second from a primary and from its
# streaming hot standby on this machine (issue 16; not part of test/main.sh).
# Installs the dependencies, builds and installs vectorann, starts a throwaway
# primary, loads data and builds the index (test/bench/replica.py load), makes
# a standby with pg_basebackup -R in the same temporary directory, starts it
# and measures (test/bench/replica.py measure).
#
#   bash test/bench/replica.sh                      # 100,000 rows x 128
#   bash test/bench/replica.sh --rows 1000000       # flags go to both phases
#
# VA_PGBIN may name a private PostgreSQL 15 installation (see test/lib.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install
va_cluster_start "shared_buffers = '2GB'" "max_wal_size = '8GB'" "jit = off"
"$VA_PYTHON" "$ROOT/test/bench/replica.py" load "$@"

standby=$VA_PGTMP/standby
standby_port=$(va_pick_port)
va_log "pg_basebackup into $standby (port $standby_port)"
va_as_postgres "$VA_PGTMP" "$VA_PGBIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres \
    -D "$standby" -R -X stream -c fast
va_as_postgres "$VA_PGTMP" sh -c "echo 'port = $standby_port' >> '$standby/postgresql.conf'"
stop_standby() {
    va_as_postgres / "$VA_PGBIN/pg_ctl" -D "$standby" -m immediate -w stop >/dev/null 2>&1 || true
}
va_on_exit stop_standby
va_as_postgres "$VA_PGTMP" "$VA_PGBIN/pg_ctl" -D "$standby" -l "$VA_PGTMP/standby.log" \
    -w -t 300 start >/dev/null
"$VA_PYTHON" "$ROOT/test/bench/replica.py" measure --standby-port "$standby_port" "$@"
