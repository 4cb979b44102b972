#!/usr/bin/env bash
# test/bench/ivfflat_scale.sh: issue 15's scale run of ivfflat (not part of
# test/main.sh: at 1,000,000 rows it takes most of an hour). Builds and installs
# vectorann, builds pgvector from shared/anchors (test/lib.sh's
# va_install_pgvector), starts a throwaway cluster and runs
# test/bench/ivfflat_scale.py (vectorann plain, rabitq and pq against pgvector).
#
#   bash test/bench/ivfflat_scale.sh                          # 1,000,000 rows
#   bash test/bench/ivfflat_scale.sh --rows 100000 --queries 200
#   bash test/bench/ivfflat_scale.sh --perf test/bench/out/perf   # + perf of the
#                                                             # quantized serial builds
#
# VA_PGBIN may name a private PostgreSQL 15 installation, VA_PGPORT a port (see
# test/lib.sh); VA_SKIP_DEPS=1 skips apt-get.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_bench_install
engines=()
if ! va_install_pgvector; then
    case " $* " in
        *" --engines"*) ;;
        *) engines=(--engines vectorann,vectorann_rabitq,vectorann_pq) ;;
    esac
fi
va_cluster_start "shared_buffers = '4GB'" "max_wal_size = '8GB'" "jit = off"
VA_PG_CONFIG="$VA_PG_CONFIG" "$VA_PYTHON" "$ROOT/test/bench/ivfflat_scale.py" "${engines[@]}" "$@"
