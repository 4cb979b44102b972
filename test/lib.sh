# shellcheck shell=bash disable=SC2016
# test/lib.sh: shell helpers shared by test/main.sh and test/check.sh.
#
# Source it from a script that runs under `set -euo pipefail`. It provides:
#   va_log / va_die            messages on stderr
#   va_as_root CMD...          run CMD as root (directly when root, else through sudo)
#   va_as_postgres DIR CMD...  run CMD as the postgres system user with DIR as cwd
#   va_install_deps [PKG...]   apt-get install the project's dependencies (+ PKG...)
#   va_ensure_postgres_user    create the postgres system user if it is missing
#   va_pick_port               print a TCP port nobody listens on
#   va_cluster_start [GUC=V..] initdb + start a throwaway cluster, export PG* for it
#   va_cluster_stop            stop it and remove its directory (idempotent)
#   va_on_exit CMD             run CMD (a string) at exit, last registered first
#   va_bench_huge_pages        benchmarks: huge pages for the next cluster and for
#                              the in-process libraries (see below)
#   va_make ARGS...            make against PostgreSQL 15's pg_config
#   va_install_pgvector        build and install pgvector beside vectorann (benchmarks)
#   va_bench_install [PKG...]  benchmarks: the dependencies (+ PKG...; skipped with
#                              VA_SKIP_DEPS=1), then build and install vectorann
#
# The cluster runs as `postgres` (the server refuses root), trusts every local
# connection, listens only on a unix socket in its own temp dir and is removed at
# exit, whether the script succeeds or fails.

VA_PG_MAJOR=15
# VA_PGBIN may name another PostgreSQL 15 bin directory, e.g. a private copy of the
# installation, so that several checkouts on one machine do not overwrite each
# other's installed extension. The default is Debian's.
VA_PGBIN=${VA_PGBIN:-/usr/lib/postgresql/${VA_PG_MAJOR}/bin}
VA_PG_CONFIG=${VA_PGBIN}/pg_config
# Debian's python3, not whatever python3 comes first on PATH (pyenv and such lack
# the python3-* packages).
VA_PYTHON=/usr/bin/python3

# Everything the two commands need, from Debian's repositories.
VA_DEPS=(
    build-essential
    "postgresql-${VA_PG_MAJOR}"
    "postgresql-server-dev-${VA_PG_MAJOR}"
    perl
    libipc-run-perl
    python3
    python3-faiss
    python3-hnswlib
    python3-matplotlib
    python3-numpy
    python3-psycopg2
    dataset-fashion-mnist
    libsimde-dev
)

va_log() { printf '[vectorann] %s\n' "$*" >&2; }
va_die() { printf '[vectorann] error: %s\n' "$*" >&2; exit 1; }

# sudo without a terminal must not wait for a password that nobody can type.
va_sudo() {
    if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
}

va_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        command -v sudo >/dev/null 2>&1 || va_die "not root and sudo is not installed: run as root or install sudo"
        va_sudo "$@"
    fi
}

# va_as_postgres DIR CMD...: DIR must be readable by postgres (a repo under /root
# is not). The environment is not inherited through sudo, so pass what CMD needs
# with `env NAME=VALUE`.
va_as_postgres() {
    local dir=$1; shift
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@"
    else
        va_sudo -u postgres -- sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@"
    fi
}

va_ensure_postgres_user() {
    if ! id -u postgres >/dev/null 2>&1; then
        va_log "creating the postgres system user"
        va_as_root useradd --system --user-group --no-create-home \
            --home-dir /var/lib/postgresql --shell /bin/bash postgres
    fi
}

# va_install_deps [EXTRA_PKG...]: installs only when something is missing, with a
# single `apt-get update` first, so a second run costs one dpkg-query.
va_install_deps() {
    local pkgs=("${VA_DEPS[@]}" "$@") missing=() p status
    for p in "${pkgs[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
        [ "$status" = installed ] || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        va_log "installing: ${missing[*]}"
        va_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        va_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends "${missing[@]}"
    else
        va_log "dependencies already installed"
    fi
    [ -x "$VA_PG_CONFIG" ] || va_die "$VA_PG_CONFIG not found after installing postgresql-server-dev-${VA_PG_MAJOR}"
    [ -x "$VA_PYTHON" ] || va_die "$VA_PYTHON not found"
    va_ensure_postgres_user
}

# Build against PostgreSQL 15 even if other server versions are installed.
va_make() {
    make PG_CONFIG="$VA_PG_CONFIG" "$@"
}

# ---- cleanup stack --------------------------------------------------------------

VA_EXIT_CMDS=()
va_on_exit() { VA_EXIT_CMDS+=("$1"); }
va_run_exit_cmds() {
    local rc=$? i
    set +e
    # If our output went to a pipe that is gone (`bash test/main.sh | head`), a
    # message must not kill the shell before the cluster is stopped.
    trap '' PIPE
    for (( i=${#VA_EXIT_CMDS[@]}-1; i>=0; i-- )); do
        eval "${VA_EXIT_CMDS[$i]}"
    done
    VA_EXIT_CMDS=()
    return $rc
}
trap va_run_exit_cmds EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

# ---- throwaway cluster ----------------------------------------------------------

# Prints a port with nothing listening on 127.0.0.1 or ::1. The cluster itself
# listens only on a unix socket in a private directory, so the port cannot clash
# there; a free TCP port keeps it usable if someone turns TCP on.
va_pick_port() {
    local port tries
    for (( tries=0; tries<200; tries++ )); do
        port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
        # 5432 and friends are never in that range; skip anything that answers.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        if (exec 3<>"/dev/tcp/::1/$port") 2>/dev/null; then continue; fi
        echo "$port"
        return 0
    done
    va_die "no free port found"
}

VA_PGTMP=""
VA_HUGE_PAGES=0

# va_bench_huge_pages: for benchmarks, give both sides huge pages, as a tuned server
# has them. The next va_cluster_start reserves 2 MB huge pages for the cluster's
# shared memory (vm.nr_hugepages, sized by `postgres -C
# shared_memory_size_in_huge_pages`) and sets huge_pages = try; transparent huge pages
# are switched to "always" so FAISS and hnswlib get them for their heap too. Both
# kernel settings are restored at exit. Where the kernel refuses (no root, a
# container), the run goes on without them and says so.
va_bench_huge_pages() {
    local thp=/sys/kernel/mm/transparent_hugepage/enabled old
    VA_HUGE_PAGES=1
    if [ -w "$thp" ] || [ "$(id -u)" -ne 0 ]; then
        old=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp" 2>/dev/null || true)
        if [ -n "$old" ] && [ "$old" != always ] &&
                echo always | va_as_root tee "$thp" >/dev/null 2>&1; then
            va_on_exit "echo $old | va_as_root tee $thp >/dev/null 2>&1"
            va_log "transparent huge pages: always (was $old; restored at exit)"
        fi
    fi
}

# Reserve huge pages for the cluster in $VA_PGTMP/data (configured, not started).
va_reserve_huge_pages() {
    local need old nr=/proc/sys/vm/nr_hugepages
    need=$(va_as_postgres "$VA_PGTMP" "$VA_PGBIN/postgres" -D "$VA_PGTMP/data" \
        -C shared_memory_size_in_huge_pages 2>/dev/null) || need=""
    old=$(cat "$nr" 2>/dev/null) || old=""
    if [ -z "$need" ] || [ "$need" -le 0 ] || [ -z "$old" ] ||
            ! echo $((old + need)) | va_as_root tee "$nr" >/dev/null 2>&1; then
        va_log "huge pages: not available here; the cluster runs without them"
        return 0
    fi
    va_on_exit "echo $old | va_as_root tee $nr >/dev/null 2>&1"
    va_log "huge pages: reserved $need for the cluster (vm.nr_hugepages $old -> $(cat "$nr"); restored at exit)"
}

# va_cluster_start [NAME=VALUE...]: extra postgresql.conf settings. Exports PGHOST,
# PGPORT, PGUSER, PGDATABASE for clients, and VA_PGTMP (the cluster's directory).
# VA_PGPORT and VA_PGTMP_PREFIX, when set, fix the port and the directory's prefix
# (on a machine whose users share out port ranges and temp names).
va_cluster_start() {
    local port setting
    [ -z "$VA_PGTMP" ] || va_die "a cluster is already running in $VA_PGTMP"
    VA_PGTMP=$(mktemp -d "${VA_PGTMP_PREFIX:-/tmp/vectorann-pg}.XXXXXX")
    va_on_exit va_cluster_stop
    # postgres owns it; everyone may enter it to reach the socket.
    chmod 0755 "$VA_PGTMP"
    va_as_root chown postgres:postgres "$VA_PGTMP"

    port=${VA_PGPORT:-$(va_pick_port)}
    va_log "initdb in $VA_PGTMP/data (port $port)"
    va_as_postgres "$VA_PGTMP" "$VA_PGBIN/initdb" -D "$VA_PGTMP/data" -U postgres \
        --auth=trust --encoding=UTF8 --locale=C --no-sync >"$VA_PGTMP.initdb.log" 2>&1 || {
        cat "$VA_PGTMP.initdb.log" >&2; rm -f "$VA_PGTMP.initdb.log"; va_die "initdb failed"; }
    rm -f "$VA_PGTMP.initdb.log"

    {
        echo "# added by test/lib.sh"
        echo "port = $port"
        echo "listen_addresses = ''"
        echo "unix_socket_directories = '$VA_PGTMP'"
        echo "unix_socket_permissions = 0777"
        for setting in "$@"; do echo "$setting"; done
        if [ "$VA_HUGE_PAGES" = 1 ]; then echo "huge_pages = try"; fi
    } | va_as_postgres "$VA_PGTMP" sh -c "cat >> '$VA_PGTMP/data/postgresql.conf'"
    if [ "$VA_HUGE_PAGES" = 1 ]; then va_reserve_huge_pages; fi

    if ! va_as_postgres "$VA_PGTMP" "$VA_PGBIN/pg_ctl" -D "$VA_PGTMP/data" \
            -l "$VA_PGTMP/server.log" -w -t 120 start >/dev/null; then
        va_as_root cat "$VA_PGTMP/server.log" >&2 || true
        va_die "the test cluster did not start"
    fi
    export PGHOST="$VA_PGTMP" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
    va_log "cluster up: PGHOST=$PGHOST PGPORT=$PGPORT"
}

va_cluster_stop() {
    [ -n "$VA_PGTMP" ] || return 0
    if [ -f "$VA_PGTMP/data/postmaster.pid" ]; then
        va_log "stopping the test cluster"
        va_as_postgres / "$VA_PGBIN/pg_ctl" -D "$VA_PGTMP/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
            va_as_postgres / "$VA_PGBIN/pg_ctl" -D "$VA_PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    va_as_root rm -rf "$VA_PGTMP"
    VA_PGTMP=""
    unset PGHOST PGPORT PGUSER PGDATABASE
}

# va_bench_install [PKG...]: what a benchmark script does first: install the
# dependencies and PKG... (not with VA_SKIP_DEPS=1, for machines set up already),
# build vectorann quietly and install it into VA_PGBIN's PostgreSQL.
va_bench_install() {
    if [ "${VA_SKIP_DEPS:-0}" != 1 ]; then
        va_install_deps "$@"
    fi
    va_make -s -j"$(nproc)"
    va_as_root make -s PG_CONFIG="$VA_PG_CONFIG" install >/dev/null
}

# va_install_pgvector: build pgvector from its source tarball and install it into the
# same PostgreSQL (extension `vector`; any `vector` installed there is overwritten),
# for benchmarks that measure it beside vectorann. The tarball: VA_PGVECTOR_TARBALL,
# else the newest shared/anchors/pgvector-*-src.tar.gz next to the checkout. Returns 1
# (having said why) when there is no tarball or the build fails; builds in a temporary
# directory removed at exit.
va_install_pgvector() {
    local tarball pgv_dir src
    tarball=${VA_PGVECTOR_TARBALL:-}
    if [ -z "$tarball" ]; then
        tarball=$(find "$(dirname "$ROOT")/shared/anchors" -maxdepth 1 -name 'pgvector-*-src.tar.gz' \
            2>/dev/null | sort -V | tail -n 1)
    fi
    if [ -z "$tarball" ] || [ ! -f "$tarball" ]; then
        va_log "no pgvector tarball (shared/anchors/pgvector-*-src.tar.gz): measuring vectorann alone"
        return 1
    fi
    pgv_dir=$(mktemp -d /tmp/vectorann-pgvector.XXXXXX)
    va_on_exit "rm -rf '$pgv_dir'"
    va_log "building pgvector from $tarball in $pgv_dir"
    if tar -xzf "$tarball" -C "$pgv_dir" &&
            src=$(dirname "$(find "$pgv_dir" -maxdepth 2 -name vector.control | head -n 1)") &&
            [ "$src" != . ] &&
            make -C "$src" -j"$(nproc)" PG_CONFIG="$VA_PG_CONFIG" >"$pgv_dir/build.log" 2>&1 &&
            va_as_root make -C "$src" PG_CONFIG="$VA_PG_CONFIG" install >>"$pgv_dir/build.log" 2>&1; then
        return 0
    fi
    tail -n 20 "$pgv_dir/build.log" >&2 || true
    va_log "pgvector did not build: measuring vectorann alone"
    return 1
}
