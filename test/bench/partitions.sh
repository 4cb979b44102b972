#!/usr/bin/env bash
# test/bench/partitions.sh: a kNN query over a 4-partition table (one hnsw
# index per partition) against one table of the same rows (issue 13; not part
# of test/main.sh). Builds and installs vectorann, starts a throwaway cluster
# and runs test/bench/partitions.py.
#
#   bash test/bench/partitions.sh                     # 100,000 rows, the installed build
#   bash test/bench/partitions.sh --rows 50000 \
#       --lib before=/tmp/before.so --lib after=/tmp/after.so   # A/B, alternating
#
# When pgvector's source tarball is there (see va_install_pgvector in
# test/lib.sh), pgvector is built, installed and measured beside vectorann.
#
# VA_PGBIN may name a private PostgreSQL 15 installation (see test/lib.sh);
# --lib needs write access to its library directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install
with_pgvector=()
if va_install_pgvector; then
    with_pgvector=(--pgvector)
fi
va_cluster_start "shared_buffers = '1GB'" "max_wal_size = '4GB'" "jit = off"
VA_PG_CONFIG="$VA_PG_CONFIG" "$VA_PYTHON" "$ROOT/test/bench/partitions.py" "${with_pgvector[@]}" "$@"
