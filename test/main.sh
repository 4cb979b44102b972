#!/usr/bin/env bash
# test/main.sh: the main job. Installs the dependencies (Debian 12 packages), builds
# and installs vectorann, starts a throwaway PostgreSQL 15 cluster and runs the HNSW
# benchmark on Fashion-MNIST against FAISS and hnswlib (test/bench/hnsw_bench.py),
# then the IVFFlat one against FAISS IndexIVFFlat (test/bench/ivfflat_bench.py, with
# quantization none, 'rabitq' and 'pq');
# pgvector joins both when its source tarball is in shared/anchors.
# The reports are printed and written to test/bench/out/, the recall-vs-QPS plots
# to test/bench/plots/; the build's log goes to test/bench/out/build.log and is
# printed only if the build fails.
#
#   bash test/main.sh                              # full run: 60,000 base, 1,000 queries
#   bash test/main.sh --base 5000 --queries 100    # quick run; any flag of either script
#
# Works as root or as a user with sudo. The server runs as the postgres system user;
# the benchmark client runs as you and connects through the cluster's unix socket.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

# shellcheck disable=SC2119
va_install_deps

# The build's output goes to a log file, shown only if the build or the
# install fails: what this job reports is the benchmark's progress.
mkdir -p "$ROOT/test/bench/out"
BUILD_LOG="$ROOT/test/bench/out/build.log"
va_log "building vectorann (make -s; log in $BUILD_LOG)"
if ! va_make -s -j"$(nproc)" >"$BUILD_LOG" 2>&1; then
    cat "$BUILD_LOG" >&2
    va_die "the build failed (log above, also in $BUILD_LOG)"
fi
va_log "installing vectorann into $("$VA_PG_CONFIG" --pkglibdir)"
if ! va_as_root make -s PG_CONFIG="$VA_PG_CONFIG" install >>"$BUILD_LOG" 2>&1; then
    cat "$BUILD_LOG" >&2
    va_die "make install failed (log above, also in $BUILD_LOG)"
fi

# Enough shared buffers to hold the 60,000-row table and its index, so queries
# measure the index rather than the OS page cache; huge pages for the server and the
# in-process libraries alike, where the kernel allows (restored at exit).
va_bench_huge_pages
va_cluster_start "shared_buffers = '2GB'"

# pgvector beside it when its source tarball is there (shared/anchors); the job runs
# without it otherwise
hnsw_engines=vectorann,vectorann_rabitq,faiss,hnswlib
ivfflat_engines=vectorann,vectorann_rabitq,vectorann_pq,faiss
if va_install_pgvector; then
    hnsw_engines=vectorann,vectorann_rabitq,pgvector,faiss,hnswlib
    ivfflat_engines=vectorann,vectorann_rabitq,vectorann_pq,pgvector,faiss
fi
va_log "running test/bench/hnsw_bench.py --engines $hnsw_engines $*"
"$VA_PYTHON" "$ROOT/test/bench/hnsw_bench.py" --engines "$hnsw_engines" "$@"
va_log "running test/bench/ivfflat_bench.py --engines $ivfflat_engines $*"
"$VA_PYTHON" "$ROOT/test/bench/ivfflat_bench.py" --engines "$ivfflat_engines" "$@"
