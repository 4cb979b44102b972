#!/usr/bin/env bash
# test/bench/highdim.sh: quantized hnsw at 3,072 dimensions (synthetic, cosine)
# against hnswlib and, when pgvector's source tarball is there, pgvector's
# halfvec(3072) expression index (test/bench/highdim.py). Not part of
# test/main.sh; at 100,000 rows it takes the better part of an hour.
#
# Installs the dependencies, builds and installs vectorann (and pgvector from
# shared/anchors, as shapes.sh does), starts a throwaway cluster and prints the
# report, also written to test/bench/out/highdim.md.
#
#   bash test/bench/highdim.sh                      # 100,000 x 3,072
#   bash test/bench/highdim.sh --rows 20000         # a quicker look
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_log "building and installing vectorann"
va_bench_install

engines=vectorann_rabitq,hnswlib
if va_install_pgvector; then
    engines=vectorann_rabitq,hnswlib,pgvector
fi

# huge pages for the server and transparent ones for hnswlib, as test/main.sh and
# scale.sh give them (without them the run measures TLB misses: at 30,000 rows
# 1.25-1.36x hnswlib with them, against 0.90x at 100,000 rows without)
va_bench_huge_pages
va_cluster_start "shared_buffers = '4GB'" "maintenance_work_mem = '4GB'"
va_log "running test/bench/highdim.py --engines $engines $*"
"$VA_PYTHON" "$ROOT/test/bench/highdim.py" --engines "$engines" "$@"
