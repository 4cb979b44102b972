#!/usr/bin/env bash
# test/bench/scale.sh: the scale run of issue 6 (not part of test/main.sh: the
# 1,000,000-row build takes a long time). Installs the dependencies, builds and
# installs vectorann, starts a throwaway cluster and runs test/bench/scale.py
# (synthetic clustered data, 128 dimensions; vectorann hnsw against hnswlib).
#
#   bash test/bench/scale.sh                    # 100,000 and 1,000,000 rows
#   bash test/bench/scale.sh --sizes 100000     # any scale.py flag
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

# shellcheck disable=SC2119
va_install_deps
va_make -j"$(nproc)"
va_as_root make PG_CONFIG="$VA_PG_CONFIG" install >/dev/null
va_bench_huge_pages
va_cluster_start "shared_buffers = '4GB'" "max_wal_size = '8GB'"
"$VA_PYTHON" "$ROOT/test/bench/scale.py" "$@"
