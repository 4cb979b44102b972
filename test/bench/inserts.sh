#!/usr/bin/env bash
# test/bench/inserts.sh: insert throughput into an hnsw index on 128-dimension
# data, 1 and 2 clients (issue 13; not part of test/main.sh). Builds and installs
# vectorann (and, with --pgvector, pgvector from shared/anchors), starts a
# throwaway cluster and runs test/bench/inserts.py.
#
#   bash test/bench/inserts.sh                                   # the installed build
#   bash test/bench/inserts.sh --lib before=/tmp/before.so --lib after=/tmp/after.so
#   bash test/bench/inserts.sh --lib before=... --lib after=... --pgvector
#
# VA_PGBIN may name a private PostgreSQL 15 installation (see test/lib.sh);
# --lib needs write access to its library directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install
args=("$@")
for a in "$@"; do
    if [ "$a" = --pgvector ] && ! va_install_pgvector; then
        args=()
        for b in "$@"; do [ "$b" = --pgvector ] || args+=("$b"); done
    fi
done
# No checkpoint during a run (full-page images would land on one build or the other).
va_cluster_start "shared_buffers = '1GB'" "max_wal_size = '8GB'" "checkpoint_timeout = '1h'" "jit = off"
VA_PG_CONFIG="$VA_PG_CONFIG" "$VA_PYTHON" "$ROOT/test/bench/inserts.py" "${args[@]}"
