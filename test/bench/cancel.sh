#!/usr/bin/env bash
# test/bench/cancel.sh: how soon a long iterative hnsw scan stops after
# statement_timeout (issue 13; not part of test/main.sh). Builds and installs
# vectorann, starts a throwaway cluster with 1 MB of shared buffers and runs
# test/bench/cancel.py.
#
# VA_PGBIN may name a private PostgreSQL 15 installation (see test/lib.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install
va_cluster_start "shared_buffers = '1MB'" "autovacuum = off" "jit = off"
"$VA_PYTHON" "$ROOT/test/bench/cancel.py" "$@"
