#!/usr/bin/env bash
# test/bench/shards.sh: kNN through a postgres_fdw coordinator over 2 and 4
# shards against one server (issue 16; not part of test/main.sh). Installs the
# dependencies, builds and installs vectorann, starts a throwaway cluster and
# runs test/bench/shards.py (the shards are databases of that cluster).
#
#   bash test/bench/shards.sh                          # 1,000,000 rows x 128
#   bash test/bench/shards.sh --rows 100000 --passes 2 # any shards.py flag
#
# VA_PGBIN may name a private PostgreSQL 15 installation (see test/lib.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install iproute2
va_cluster_start "shared_buffers = '4GB'" "max_wal_size = '8GB'" "jit = off" \
    "max_connections = 200" "listen_addresses = '127.0.0.1'"
"$VA_PYTHON" "$ROOT/test/bench/shards.py" "$@"
