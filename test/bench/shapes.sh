#!/usr/bin/env bash
# test/bench/shapes.sh: recall on varied-norm, duplicate-heavy and churned data, every
# operator class, vectorann beside pgvector (test/bench/shapes.py). Not part of
# test/main.sh; takes a few minutes.
#
# Installs the dependencies, builds and installs vectorann and, when pgvector's
# source tarball is there (default: the newest shared/anchors/pgvector-*-src.tar.gz
# next to this repository; VA_PGVECTOR_TARBALL overrides it), builds pgvector from it
# in a temporary directory and installs it into the same PostgreSQL (its extension
# `vector`; any `vector` already installed there is overwritten). Without the tarball,
# or if its build fails, only vectorann is measured. Starts a throwaway cluster, in
# which each extension gets a database of its own, and prints the report, also
# written to test/bench/out/shapes.md.
#
#   bash test/bench/shapes.sh
#   VA_PGBIN=/opt/pg-x/usr/lib/postgresql/15/bin bash test/bench/shapes.sh   # private PG copy
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"
cd "$ROOT"

va_log "building and installing vectorann"
va_bench_install

engines=vectorann
if va_install_pgvector; then
    engines=vectorann,pgvector
fi

va_cluster_start "shared_buffers = '512MB'"
va_log "running test/bench/shapes.py --engines $engines $*"
"$VA_PYTHON" "$ROOT/test/bench/shapes.py" --engines "$engines" "$@"
