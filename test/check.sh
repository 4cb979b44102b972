#!/usr/bin/env bash
# test/check.sh: the test suite. Installs the dependencies (Debian 12 packages),
# builds vectorann with warnings as errors and installs it, runs the emulated
# SIMD kernel test (`make emulated-kernel-check`: every SIMD distance kernel,
# compiled against SIMDe, against the scalar ones, on any CPU), then, as the
# postgres system user in a temporary copy of the source tree:
#   1. pg_regress (`make installcheck`, sql/*.sql vs expected/*.out) against a
#      throwaway cluster,
#   2. the TAP tests (`make prove-installcheck`, test/t/*.pl), one file at a time;
#      each makes its own clusters.
# Prints regression.diffs and TAP logs for failures and ends with the line
#   check: N passed, M failed
# (the emulated kernel test + pg_regress tests + TAP files). Exits 0 only if
# everything passed.
#
# Works as root or as a user with sudo. The copy is needed because pg_regress
# writes results/ into the current directory and initdb refuses to run as root,
# and because postgres may not be able to read the checkout (e.g. under /root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
source "$ROOT/test/lib.sh"

PASSED=0
FAILED=0
FAILED_NAMES=()
# Longest tail printed of one log file.
LOG_LINES=${VA_LOG_LINES:-400}

summary() {
    if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
        echo "failed: ${FAILED_NAMES[*]}"
    fi
    echo "check: $PASSED passed, $FAILED failed"
}

fail_step() {   # fail_step NAME: a failure that is not a test of its own
    FAILED=$((FAILED + 1)); FAILED_NAMES+=("$1")
}

show_file() {   # show_file PATH: the last LOG_LINES lines, with a header
    local n
    n=$(va_as_root cat "$1" | wc -l)
    echo "===== $1 ($n lines) ====="
    if [ "$n" -gt "$LOG_LINES" ]; then
        echo "... (first $((n - LOG_LINES)) lines cut; whole file in the copy when VA_KEEP=1)"
    fi
    va_as_root tail -n "$LOG_LINES" "$1"
}

# shellcheck disable=SC2119
va_install_deps

# ---- copy of the source tree --------------------------------------------------------

WORK=$(mktemp -d /tmp/vectorann-check.XXXXXX)
if [ "${VA_KEEP:-0}" = 1 ]; then
    va_on_exit "va_log 'kept $WORK'"
else
    va_on_exit "va_as_root rm -rf '$WORK'"
fi
SRC="$WORK/src"
mkdir -p "$SRC"
va_log "copying the source tree to $SRC"
if command -v git >/dev/null 2>&1 && git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked and untracked files, minus what .gitignore names (build products,
    # results/, tmp_check/ ...), so the build starts clean.
    # shellcheck disable=SC2016
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$ROOT" && xargs -0 -r sh -c 'for f; do if [ -e "$f" ]; then printf "%s\0" "$f"; fi; done' sh) |
        tar -C "$ROOT" --null -T - -cf - | tar -C "$SRC" -xf -
else
    cp -a "$ROOT/." "$SRC/"
    va_make -C "$SRC" clean >/dev/null
fi

# ---- build and install ----------------------------------------------------------------

va_log "building with WERROR=1"
if ! va_make -C "$SRC" -j"$(nproc)" WERROR=1; then
    echo "build failed (make WERROR=1)"
    fail_step build
    summary
    exit 1
fi
va_log "installing into $("$VA_PG_CONFIG" --pkglibdir)"
if ! va_as_root make -C "$SRC" PG_CONFIG="$VA_PG_CONFIG" install >/dev/null; then
    echo "make install failed"
    fail_step install
    summary
    exit 1
fi

# ---- emulated SIMD kernels ------------------------------------------------------------

# One counted test: exits non-zero (and prints FAIL lines) if any kernel disagrees
# with the scalar reference or reads past its input, or if a SIMD source has no
# comparisons.
va_log "emulated SIMD kernels: make emulated-kernel-check"
if va_make -C "$SRC" WERROR=1 emulated-kernel-check; then
    PASSED=$((PASSED + 1))
else
    FAILED=$((FAILED + 1)); FAILED_NAMES+=(emulated-kernel-check)
fi

# postgres owns the copy (pg_regress and the TAP tests write into it); $WORK itself
# stays ours, for this script's own logs.
chmod 0755 "$WORK"
va_as_root chown -R postgres:postgres "$SRC"

PG_ENV=(env "PATH=$VA_PGBIN:/usr/local/bin:/usr/bin:/bin" "LANG=C.UTF-8" "LC_ALL=C.UTF-8")

# ---- pg_regress -----------------------------------------------------------------------

regress_tests=0
for f in "$SRC"/sql/*.sql; do
    if [ -e "$f" ] && [[ $(basename "$f") != vectorann--* ]]; then
        regress_tests=$((regress_tests + 1))
    fi
done
if [ "$regress_tests" -gt 0 ]; then
    va_cluster_start "fsync = off"
    # TAP_TESTS= : PGXS's installcheck would also run the TAP suite; that runs
    # below, one file at a time.
    va_log "pg_regress: make installcheck"
    set +e
    va_as_postgres "$SRC" "${PG_ENV[@]}" PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER=postgres \
        make PG_CONFIG="$VA_PG_CONFIG" installcheck TAP_TESTS= 2>&1 | tee "$WORK/installcheck.out"
    rc=${PIPESTATUS[0]}
    set -e
    va_cluster_stop
    # pg_regress prints "test NAME ... ok|FAILED|failed (ignored)" (or, inside a
    # parallel group, the same without "test").
    ok=$(grep -Ec '^(test +| +)[^ ]+ +\.\.\. (ok|failed \(ignored\))' "$WORK/installcheck.out") || ok=0
    bad=$(grep -Ec '^(test +| +)[^ ]+ +\.\.\. FAILED' "$WORK/installcheck.out") || bad=0
    PASSED=$((PASSED + ok)); FAILED=$((FAILED + bad))
    if [ "$bad" -gt 0 ]; then
        mapfile -t -O ${#FAILED_NAMES[@]} FAILED_NAMES < <(
            grep -E '^(test +| +)[^ ]+ +\.\.\. FAILED' "$WORK/installcheck.out" |
            sed -E 's/^(test +| +)([^ ]+).*/\2/')
    fi
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "make installcheck exited $rc before reporting a failing test"
        fail_step installcheck
    elif [ $((ok + bad)) -eq 0 ]; then
        echo "make installcheck reported no test results ($regress_tests scripts in sql/)"
        fail_step installcheck
    fi
    if [ "$rc" -ne 0 ]; then
        for f in "$SRC/regression.diffs" "$SRC/log/initdb.log" "$SRC/log/postmaster.log"; do
            [ -f "$f" ] && show_file "$f"
        done
    fi
else
    echo "pg_regress: no test scripts in sql/ yet, skipped"
fi

# ---- TAP --------------------------------------------------------------------------------

shopt -s nullglob
tap_files=("$SRC"/test/t/*.pl)
shopt -u nullglob
if [ ${#tap_files[@]} -eq 0 ]; then
    echo "TAP: no test/t/*.pl yet, skipped"
else
    # The Makefile's prove-installcheck target runs PGXS's prove step alone; without
    # it, PGXS's installcheck with REGRESS= does the same.
    if va_make -C "$SRC" -n prove-installcheck >/dev/null 2>&1; then
        tap_target=(prove-installcheck)
    else
        tap_target=(installcheck REGRESS=)
    fi
    for f in "${tap_files[@]}"; do
        rel=test/t/$(basename "$f")
        va_log "TAP: $rel"
        set +e
        va_as_postgres "$SRC" "${PG_ENV[@]}" \
            make PG_CONFIG="$VA_PG_CONFIG" "${tap_target[@]}" PROVE_TESTS="$rel" 2>&1
        rc=$?
        set -e
        if [ "$rc" -eq 0 ]; then
            PASSED=$((PASSED + 1))
        else
            FAILED=$((FAILED + 1)); FAILED_NAMES+=("$rel")
            # Each run starts with rm -rf tmp_check, so show the logs now.
            for log in "$SRC"/tmp_check/log/*; do
                [ -f "$log" ] && show_file "$log"
            done
        fi
    done
fi

summary
[ "$FAILED" -eq 0 ]
