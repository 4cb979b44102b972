#!/usr/bin/python3
"""HNSW on Fashion-MNIST: vectorann (inside PostgreSQL) against pgvector, FAISS and hnswlib.

Reads Fashion-MNIST from the Debian package dataset-fashion-mnist (IDX files), takes
the 60,000 training images as the base set and the first N test images as queries
(784 dimensions, float32 pixel values 0..255, L2 distance, k = 10) and, for every
engine, builds an HNSW index with M = 16 and ef_construction = 64 on one thread,
then sweeps ef_search, reporting build seconds, index size, recall@10 against exact
ground truth (FAISS IndexFlatL2) and queries per second, one query at a time.

PostgreSQL is reached through libpq's environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); test/main.sh starts a throwaway cluster and sets them. The table
`items` in that database is dropped and recreated.

Run with Debian's interpreter (/usr/bin/python3): it has python3-faiss,
python3-hnswlib, python3-numpy and python3-psycopg2.

    /usr/bin/python3 test/bench/hnsw_bench.py                      # full run
    /usr/bin/python3 test/bench/hnsw_bench.py --base 5000 --queries 100
    /usr/bin/python3 test/bench/hnsw_bench.py --engines faiss,hnswlib

pgvector (engine pgvector) needs the extension `vector` installed in the same
PostgreSQL; test/main.sh builds it from shared/anchors when the tarball is there and
otherwise leaves the engine out. It runs in a database of its own, bench_pgvector.
"""

import argparse
import datetime
import gzip
import io
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
ENGINES = ("vectorann", "vectorann_rabitq", "pgvector", "faiss", "hnswlib")
M = 16
EF_CONSTRUCTION = 64
K = 10
MIB = 1024.0 * 1024.0
HERE = os.path.dirname(os.path.abspath(__file__))


def log(msg):
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {msg}", file=sys.stderr, flush=True)


# ---- data --------------------------------------------------------------------------

def read_idx_images(path, limit=None):
    """Images of an IDX file (magic 0x00000803: uint8, 3 dims) as float32 (n, rows*cols)."""
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x00000803:
            raise ValueError(f"{path}: not an IDX uint8 image file (magic {magic:#010x})")
        if limit is not None:
            n = min(n, limit)
        buf = f.read(n * rows * cols)
    if len(buf) != n * rows * cols:
        raise ValueError(f"{path}: truncated ({len(buf)} bytes for {n} images)")
    return np.frombuffer(buf, dtype=np.uint8).reshape(n, rows * cols).astype(np.float32)


def vector_literals(x):
    """Text form `[v1,v2,...]` of each row of a float32 matrix."""
    if np.all(x == np.round(x)) and np.all(np.abs(x) < 2**24):
        # Integral values (the pixels): print them exactly, and fast, as integers.
        lo = int(x.min()) if x.size else 0
        table = [str(v) for v in range(lo, int(x.max()) + 1)] if x.size else []
        rows = (x.astype(np.int64) - lo).tolist()
        return ["[" + ",".join([table[v] for v in row]) + "]" for row in rows]
    return ["[" + ",".join(repr(float(v)) for v in row) + "]" for row in x]


# Column storage of the benchmark tables. A Fashion-MNIST vector (3,136 bytes) is
# above PostgreSQL's 2 kB TOAST threshold, so by default it lives out of line and
# every read of it (the executor recomputes `embedding <-> q` for each row it
# returns) costs a TOAST index lookup. PLAIN keeps it in the row, as ann-benchmarks
# does for pgvector and as the README advises; --storage default measures the
# type's default (EXTERNAL). PLAIN only applies while a row fits a page.
STORAGE = "plain"
PLAIN_MAX_DIM = 2000


def create_vector_table(cur, name, id_type, dim):
    """CREATE TABLE name (id id_type PRIMARY KEY, embedding vector(dim)) with the
    embedding column's storage set per STORAGE; returns the storage in use."""
    cur.execute(f"DROP TABLE IF EXISTS {name}")
    cur.execute(f"CREATE TABLE {name} (id {id_type} PRIMARY KEY, embedding vector({dim}))")
    if STORAGE == "plain" and dim <= PLAIN_MAX_DIM:
        cur.execute(f"ALTER TABLE {name} ALTER COLUMN embedding SET STORAGE PLAIN")
        return "plain"
    return "external"


def install_lib(path):
    """Put the vectorann shared library at path in place of the installed one (copied
    beside it, then renamed over it: a loaded library is never overwritten in place),
    so that benchmarks alternate two builds on one cluster."""
    libdir = subprocess.check_output([os.environ.get("VA_PG_CONFIG", "pg_config"),
                                      "--pkglibdir"], text=True).strip()
    target = os.path.join(libdir, "vectorann.so")
    tmp = target + ".bench-tmp"
    shutil.copyfile(path, tmp)
    os.chmod(tmp, 0o755)
    os.rename(tmp, target)


def recall_at_k(found, truth, k=K):
    """Mean over queries of |found ∩ truth[:k]| / k; found rows may hold -1 padding."""
    hits = 0
    for f, t in zip(found, truth):
        hits += len(set(int(v) for v in f[:k] if v >= 0) & set(int(v) for v in t[:k]))
    return hits / (k * len(truth))


def ground_truth(base, queries, k=K):
    """Exact top k by brute force (FAISS IndexFlatL2) on all cores."""
    import faiss
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    # Compute every distance directly as sum((x - q)^2) instead of through BLAS
    # (||x||^2 + ||q||^2 - 2 x.q): more precise, and not slowed
    # down by Debian's reference BLAS when no optimised one is installed.
    saved = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = 1 << 30
    try:
        index = faiss.IndexFlatL2(base.shape[1])
        index.add(base)
        _, ids = index.search(queries, k)
    finally:
        faiss.cvar.distance_compute_blas_threshold = saved
        faiss.omp_set_num_threads(1)
    return ids


# ---- engines -----------------------------------------------------------------------

def timed_sweep(search_one, nq, efs, set_ef, warmup, runs):
    """For each ef: set it, run `warmup` untimed queries, then all nq queries `runs`
    times, timing each query; QPS is the best run's (the least disturbed by anything
    else on the machine), p99 latency (ms) that run's, results are the first run's.
    Returns [(ef, found ids, QPS, p99 ms)]."""
    results = []
    for ef in efs:
        set_ef(ef)
        for i in range(min(warmup, nq)):
            search_one(i)
        found = np.full((nq, K), -1, dtype=np.int64)
        best, best_lat = float("inf"), None
        for run in range(max(runs, 1)):
            lat = np.empty(nq)
            t0 = time.perf_counter()
            for i in range(nq):
                q0 = time.perf_counter()
                ids = search_one(i)
                lat[i] = time.perf_counter() - q0
                if run == 0:
                    found[i, :len(ids)] = ids
            total = time.perf_counter() - t0
            if total < best:
                best, best_lat = total, lat
        results.append((ef, found, nq / best, float(np.percentile(best_lat, 99)) * 1000.0))
    return results


# The server-side query loop: every query of `queries` run by PL/pgSQL inside the
# backend, each timed with clock_timestamp(), so neither the client nor the protocol
# is counted.  Returns one row per query: its id, the 10 ids found, microseconds.
SERVER_LOOP_SQL = """
CREATE OR REPLACE FUNCTION bench_knn_loop()
RETURNS TABLE (qid int, ids bigint[], us float8) LANGUAGE plpgsql AS $$
DECLARE
    q record;
    t0 timestamptz;
BEGIN
    FOR q IN SELECT b.id, b.embedding FROM queries b ORDER BY b.id LOOP
        t0 := clock_timestamp();
        ids := ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10);
        us := extract(epoch FROM clock_timestamp() - t0) * 1e6;
        qid := q.id;
        RETURN NEXT;
    END LOOP;
END $$
"""


def server_sweep(cur, nq, efs, warmup, runs, setting="hnsw.ef_search"):
    """bench_knn_loop() at every value of `setting` (ef_search, or ivfflat.probes),
    `runs` times; QPS = nq / the best run's summed per-query seconds, p99 of that run.
    Returns [(value, found, QPS, p99 ms)]."""
    results = []
    for ef in efs:
        cur.execute(f"SET {setting} = {int(ef)}")
        if warmup:
            cur.execute("SELECT count(*) FROM bench_knn_loop()")
        found = np.full((nq, K), -1, dtype=np.int64)
        best, best_lat = float("inf"), None
        for run in range(max(runs, 1)):
            cur.execute("SELECT qid, ids, us FROM bench_knn_loop()")
            lat = np.empty(nq)
            for qid, ids, us in cur.fetchall():
                lat[qid] = us / 1e6
                if run == 0:
                    found[qid, :len(ids)] = ids
            if lat.sum() < best:
                best, best_lat = lat.sum(), lat
        results.append((ef, found, nq / best, float(np.percentile(best_lat, 99)) * 1000.0))
    return results


def bench_faiss(base, queries, efs, warmup, runs):
    import faiss
    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(base.shape[1], M)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    t0 = time.perf_counter()
    index.add(base)
    build_s = time.perf_counter() - t0
    size = faiss.serialize_index(index).size

    def set_ef(ef):
        index.hnsw.efSearch = ef

    def search_one(i):
        _, ids = index.search(queries[i:i + 1], K)
        return ids[0]

    return build_s, size, timed_sweep(search_one, len(queries), efs, set_ef, warmup, runs)


def bench_hnswlib(base, queries, efs, warmup, runs):
    import hnswlib
    n, dim = base.shape
    index = hnswlib.Index(space="l2", dim=dim)
    index.init_index(max_elements=n, M=M, ef_construction=EF_CONSTRUCTION, random_seed=100)
    index.set_num_threads(1)
    t0 = time.perf_counter()
    index.add_items(base, np.arange(n), num_threads=1)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hnswlib.bin")
        index.save_index(path)
        size = os.path.getsize(path)

    def set_ef(ef):
        index.set_ef(max(ef, K))  # hnswlib needs ef >= k

    def search_one(i):
        ids, _ = index.knn_query(queries[i:i + 1], k=K, num_threads=1)
        return ids[0]

    def one_pass(ef):
        set_ef(ef)
        t0 = time.perf_counter()
        for i in range(len(queries)):
            search_one(i)
        return time.perf_counter() - t0

    PASSES["hnswlib"] = one_pass
    return build_s, size, timed_sweep(search_one, len(queries), efs, set_ef, warmup, runs)


def open_engine_db(label, extension, info):
    """A connection (autocommit) and cursor for one PostgreSQL extension: vectorann in
    the environment's database, any other (label pgvector, extension vector) in a
    database of its own, bench_LABEL, made afresh, since both define the type vector.
    Notes the server and extension versions (and, for vectorann, a few settings) in
    info. Shared with ivfflat_bench.py."""
    import psycopg2
    conn = psycopg2.connect("")  # PGHOST, PGPORT, PGUSER, PGDATABASE from the environment
    conn.autocommit = True
    cur = conn.cursor()
    if label != "vectorann":
        dbname = "bench_" + label
        cur.execute("DROP DATABASE IF EXISTS " + dbname)
        cur.execute("CREATE DATABASE " + dbname)
        conn.close()
        conn = psycopg2.connect(dbname=dbname)
        conn.autocommit = True
        cur = conn.cursor()
    cur.execute("SHOW server_version")
    info["postgres"] = cur.fetchone()[0]
    cur.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (extension,))
    info[label] = cur.fetchone()[0]
    if label == "vectorann" and "pg_settings" not in info:
        for guc in ("shared_buffers", "work_mem", "jit"):
            cur.execute(f"SHOW {guc}")
            info.setdefault("pg_settings", []).append(f"{guc}={cur.fetchone()[0]}")
    return conn, cur


def load_items(cur, base, label, info):
    """(Re)create the table items (id bigint, embedding vector(dim)) and COPY base
    into it, ids 0..n-1, then ANALYZE."""
    n, dim = base.shape
    info["pg_storage"] = create_vector_table(cur, "items", "bigint", dim)
    log(f"{label}: loading {n} rows with COPY")
    chunk = 5000
    for start in range(0, n, chunk):
        lits = vector_literals(base[start:start + chunk])
        text = "".join(f"{start + j}\t{lit}\n" for j, lit in enumerate(lits))
        cur.copy_expert("COPY items (id, embedding) FROM STDIN", io.StringIO(text))
    cur.execute("ANALYZE items")


def bench_vectorann(base, queries, efs, warmup, runs, info, label="vectorann",
                    extension="vectorann", index_with=""):
    """Build and sweep one PostgreSQL extension: vectorann in the environment's
    database, or (label pgvector, extension vector) pgvector in a database of its own,
    bench_pgvector, since both define the type vector; label vectorann_rabitq is
    vectorann with index_with (", quantization = 'rabitq'") added to the index options,
    in a database of its own."""
    import psycopg2
    n, dim = base.shape
    conn, cur = open_engine_db(label, extension, info)
    t0 = time.perf_counter()
    load_items(cur, base, label, info)
    if label == "vectorann":
        info["pg_load_s"] = time.perf_counter() - t0

    cur.execute("SET maintenance_work_mem = '2GB'")
    # first the build with two parallel workers (the leader takes part too), timed
    # and dropped; the serial build below is the index that is measured
    cur.execute("ALTER TABLE items SET (parallel_workers = 2)")
    cur.execute("SET max_parallel_maintenance_workers = 2")
    log(f"{label}: CREATE INDEX with 2 parallel workers")
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX items_parallel ON items USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {M}, ef_construction = {EF_CONSTRUCTION}{index_with})")
    info["pg_parallel_build_s" if label == "vectorann" else f"{label}_parallel_build_s"] = \
        time.perf_counter() - t0
    cur.execute("DROP INDEX items_parallel")
    cur.execute("SET max_parallel_maintenance_workers = 0")
    log(f"{label}: CREATE INDEX")
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {M}, ef_construction = {EF_CONSTRUCTION}{index_with})")
    build_s = time.perf_counter() - t0
    cur.execute("SELECT i.indexrelid::regclass::text, pg_relation_size(i.indexrelid) "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam "
                "WHERE i.indrelid = 'items'::regclass AND a.amname = 'hnsw'")
    index_name, size = cur.fetchone()

    # Bring table and index into shared buffers so the first ef_search is not
    # charged for reading them; fall back to the warm-up queries if unavailable.
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cur.execute("SELECT pg_prewarm('items'), pg_prewarm(%s)", (index_name,))
    except psycopg2.Error as e:
        log(f"{label}: pg_prewarm unavailable ({e.pgerror or e}); relying on warm-up queries")

    qlits = vector_literals(queries)
    cur.execute("PREPARE knn AS SELECT id FROM items ORDER BY embedding <-> $1::vector LIMIT 10")
    cur.execute("EXPLAIN (COSTS OFF) EXECUTE knn(%s)", (qlits[0],))
    plan = "\n".join(r[0] if len(r[0]) <= 100 else r[0][:100] + "..." for r in cur.fetchall())
    uses = "Index Scan" in plan and index_name in plan
    info["pg_plan_uses_index" if label == "vectorann" else f"{label}_plan_uses_index"] = uses
    if not uses:
        print(f"WARNING: the query plan does not use the hnsw index {index_name}:\n{plan}",
              file=sys.stderr, flush=True)
    statements = [f"EXECUTE knn('{lit}')" for lit in qlits]

    def set_ef(ef):
        cur.execute(f"SET hnsw.ef_search = {int(ef)}")

    def search_one(i):
        cur.execute(statements[i])
        return [r[0] for r in cur.fetchall()]

    sweep = timed_sweep(search_one, len(queries), efs, set_ef, warmup, runs)
    cur.execute("DEALLOCATE knn")

    log(f"{label}: server-side sweep (PL/pgSQL loop over a queries table)")
    create_vector_table(cur, "queries", "int", dim)
    text = "".join(f"{j}\t{lit}\n" for j, lit in enumerate(qlits))
    cur.copy_expert("COPY queries (id, embedding) FROM STDIN", io.StringIO(text))
    cur.execute(SERVER_LOOP_SQL)
    info[f"{label}_server_sweep"] = server_sweep(cur, len(queries), efs, warmup, runs)

    def one_pass(ef):
        cur.execute(f"SET hnsw.ef_search = {int(ef)}")
        cur.execute("SELECT sum(us) FROM bench_knn_loop()")
        return cur.fetchone()[0] / 1e6

    PASSES[f"{label} (server-side)"] = one_pass  # keeps conn open until exit
    return build_s, size, sweep


# One timed pass over all queries at a given ef_search, per engine, for the
# interleaved comparison (filled in by the bench_* functions).
PASSES = {}


def interleaved(efs, passes, rounds):
    """Time vectorann (server-side) and hnswlib alternately, `rounds` passes each per
    ef_search, so both see the same minutes of a machine whose speed drifts.
    Returns [(ef, vectorann s list, hnswlib s list)]."""
    return interleaved_pair(efs, passes["vectorann (server-side)"], passes["hnswlib"], rounds)


def interleaved_pair(efs, a, b, rounds):
    """Time two engines' passes alternately, `rounds` each per ef_search.
    Returns [(ef, a's seconds list, b's seconds list)]."""
    out = []
    for ef in efs:
        a(ef), b(ef)  # warm-up
        ta, tb = [], []
        for _ in range(rounds):
            ta.append(a(ef))
            tb.append(b(ef))
        out.append((ef, ta, tb))
    return out


def at_equal_recall(rows, a_name, b_name, recall, rounds):
    """Time engine a at its smallest ef_search reaching `recall` and engine b at its
    own, alternately, `rounds` passes each (the ratio issue 14 asks: the same recall,
    not the same ef_search).  Returns (ef a, recall a, ef b, recall b, a's seconds,
    b's seconds), or None when either engine never reaches it."""
    a, b = first_at(rows, a_name, recall), first_at(rows, b_name, recall)
    if a is None or b is None:
        return None
    pa, pb = PASSES[a_name], PASSES[b_name]
    pa(a[3]), pb(b[3])  # warm-up
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(pa(a[3]))
        tb.append(pb(b[3]))
    return a[3], a[4], b[3], b[4], ta, tb


# ---- report ------------------------------------------------------------------------

def machine_info():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info.setdefault("cpu", platform.processor() or "unknown")
    info["cores"] = os.cpu_count()
    try:
        info["cores_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        info["cores_usable"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    info["ram_gib"] = int(line.split()[1]) / (1024.0 * 1024.0)
                    break
    except OSError:
        pass
    info["kernel"] = f"{platform.system()} {platform.release()} {platform.machine()}"
    try:
        info["os"] = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except (OSError, AttributeError):
        info["os"] = ""
    return info


def package_versions(names):
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *names],
                             capture_output=True, text=True, check=False).stdout
    except OSError:
        return {}
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def first_at(rows, engine, recall):
    """The row of engine with the smallest ef_search reaching recall, or None."""
    ok = [r for r in rows if r[0] == engine and r[4] >= recall]
    return min(ok, key=lambda r: r[3]) if ok else None


def targets(rows, info):
    """Issue 6's targets against hnswlib, each met or not."""
    out = ["Targets (issue 6; ratios from this one run):", ""]
    v = first_at(rows, "vectorann (server-side)", 0.99)
    h = first_at(rows, "hnswlib", 0.99)
    inter = {ef: (tv, th) for ef, tv, th in info.get("interleaved", [])}
    if v and h and v[3] == h[3] and v[3] in inter:
        tv, th = inter[v[3]]
        r = statistics.median(th) / statistics.median(tv)
        out.append(f"- query: at recall@10 >= 0.99 (ef_search {v[3]}: vectorann {v[4]:.4f}, "
                   f"hnswlib {h[4]:.4f}), timed alternately {len(tv)} times each, the median "
                   f"pass makes vectorann (server-side) {r:.2f}x hnswlib's rate "
                   f"(range of the pass ratios {min(th[i] / tv[i] for i in range(len(tv))):.2f}"
                   f"-{max(th[i] / tv[i] for i in range(len(tv))):.2f}x), target >= 0.6x: "
                   f"{'met' if r >= 0.6 else 'NOT met'}; p99 {v[6]:.2f} ms vs {h[6]:.2f} ms "
                   "(from the sweep)")
    elif v and h:
        r = v[5] / h[5]
        out.append(f"- query: at recall@10 >= 0.99 vectorann (server-side, ef_search {v[3]}) "
                   f"runs {v[5]:.0f} QPS, hnswlib (ef {h[3]}) {h[5]:.0f} QPS: "
                   f"{r:.2f}x, target >= 0.6x: {'met' if r >= 0.6 else 'NOT met'}; "
                   f"p99 {v[6]:.2f} ms vs {h[6]:.2f} ms")
    elif not any(r[0] == "vectorann (server-side)" for r in rows) or \
            not any(r[0] == "hnswlib" for r in rows):
        out.append("- query: vectorann (unquantized) and hnswlib were not both in this run")
    else:
        out.append("- query: an engine never reached recall@10 0.99 in this sweep")
    vb = next((r for r in rows if r[0] == "vectorann"), None)
    hb = next((r for r in rows if r[0] == "hnswlib"), None)
    if vb and hb:
        r = vb[1] / hb[1]
        out.append(f"- build (one process): {vb[1]:.1f} s vs hnswlib {hb[1]:.1f} s: {r:.2f}x, "
                   f"target <= 1.2x: {'met' if r <= 1.2 else 'NOT met'}")
        if "pg_parallel_build_s" in info:
            p = info["pg_parallel_build_s"]
            out.append(f"- build with 2 parallel workers (+ the leader): {p:.1f} s "
                       f"({vb[1] / p:.2f}x faster than one process; "
                       f"{info.get('cores_usable', '?')} cores usable)")
    if vb and info.get("raw_bytes"):
        r = vb[2] / info["raw_bytes"]
        out.append(f"- size: {vb[2] / MIB:.1f} MB vs {info['raw_bytes'] / MIB:.1f} MB of raw "
                   f"float32 vectors: {r:.2f}x, target <= 1.3x: {'met' if r <= 1.3 else 'NOT met'}")
    return out


def write_plot(rows, path, title):
    """Recall@10 against QPS (log scale), one curve per engine, as a PNG; rows are
    (engine, build s, size, ef or probes, recall, QPS, ...)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    styles = {"vectorann (server-side)": "o-", "vectorann": "o--", "hnswlib": "s-",
              "faiss": "^-", "pgvector (server-side)": "d-", "pgvector": "d--",
              "vectorann_rabitq (server-side)": "v-", "vectorann_rabitq": "v--"}
    for engine in dict.fromkeys(r[0] for r in rows):
        pts = sorted((r[4], r[5], r[3]) for r in rows if r[0] == engine)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], styles.get(engine, "x-"),
                label=engine)
    ax.set_yscale("log")
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (one thread)")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def interleaved_table(timings, other, nq, setting="ef_search"):
    """Markdown rows for alternating passes [(value of setting, vectorann s list,
    other s list)]: QPS of each engine's median pass, their ratio, and the range of
    per-pass ratios."""
    out = [f"| {setting} | vectorann (server-side) QPS | {other} | ratio, median passes "
           "| ratio, per pass |", "|---:|---:|---:|---:|---:|"]
    for ef, tv, to in timings:
        per = [to[i] / tv[i] for i in range(len(tv))]
        out.append(f"| {ef} | {nq / statistics.median(tv):.0f} | "
                   f"{nq / statistics.median(to):.0f} | "
                   f"{statistics.median(to) / statistics.median(tv):.2f} | "
                   f"{min(per):.2f}-{max(per):.2f} |")
    return out


def render(rows, info, args, nbase, nq, errors):
    pkgs = package_versions(["python3-faiss", "python3-hnswlib", "python3-numpy",
                             "postgresql-15", "dataset-fashion-mnist"])
    lines = []
    lines.append("# HNSW on Fashion-MNIST: vectorann vs FAISS vs hnswlib")
    lines.append("")
    lines.append(f"- data: Fashion-MNIST (Debian dataset-fashion-mnist "
                 f"{pkgs.get('dataset-fashion-mnist', '?')}), {nbase} base vectors "
                 f"(train images), {nq} queries (first {nq} t10k images), 784 dims, "
                 f"float32 pixel values 0..255, L2, k = {K}")
    lines.append(f"- index: HNSW, M = {M}, ef_construction = {EF_CONSTRUCTION}, built on one "
                 f"thread by every engine (PostgreSQL: max_parallel_maintenance_workers = 0, "
                 f"maintenance_work_mem = 2GB)")
    lines.append("- queries: one at a time on one thread/connection; QPS = queries / wall "
                 f"seconds of one pass over them, best of {args.runs} passes per ef_search "
                 "(PostgreSQL: prepared statement "
                 "`SELECT id FROM items ORDER BY embedding <-> $1::vector LIMIT 10` over a "
                 "unix socket, client round trip included); "
                 f"{args.warmup} untimed warm-up queries before each ef_search")
    lines.append("- recall@10: |result ∩ exact top 10| / 10, averaged over the queries; exact "
                 "top 10 from FAISS IndexFlatL2")
    lines.append("- index MB: PostgreSQL pg_relation_size of the index; FAISS "
                 "serialize_index size; hnswlib save_index file size (MB = 2^20 bytes)")
    lines.append("- hnswlib searches with ef = max(ef_search, 10) since it needs ef >= k; "
                 "FAISS does the same internally")
    lines.append("")
    mach = [f"CPU: {info.get('cpu')}",
            f"cores: {info.get('cores')} ({info.get('cores_usable')} usable)",
            f"RAM: {info.get('ram_gib', 0):.1f} GiB",
            f"kernel: {info.get('kernel')}"]
    if info.get("os"):
        mach.append(f"OS: {info['os']}")
    mach.append(f"PostgreSQL: {info.get('postgres', 'not run')}")
    if "vectorann" in info:
        mach.append(f"vectorann: {info['vectorann']}")
    if "pgvector" in info:
        mach.append(f"pgvector: {info['pgvector']} (built from its source tarball in the same run)")
    if info.get("pg_settings"):
        mach.append("server: " + ", ".join(info["pg_settings"]) +
                    (f", vector column storage {info['pg_storage']}" if info.get("pg_storage") else ""))
    mach.append(f"faiss: {pkgs.get('python3-faiss', '?')}")
    mach.append(f"hnswlib: {pkgs.get('python3-hnswlib', '?')}")
    mach.append(f"numpy: {pkgs.get('python3-numpy', '?')}")
    lines.append("Machine: " + "; ".join(mach))
    lines.append("")
    hl = {r[3]: r for r in rows if r[0] == "hnswlib"}
    lines.append("| engine | build s | index MB | ef_search | recall@10 | QPS | p99 ms "
                 "| QPS / hnswlib |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for engine, build_s, size, ef, recall, qps, p99 in rows:
        ratio = f"{qps / hl[ef][5]:.2f}" if ef in hl else "-"
        lines.append(f"| {engine} | {build_s:.1f} | {size / MIB:.1f} | {ef} | "
                     f"{recall:.4f} | {qps:.0f} | {p99:.2f} | {ratio} |")
    lines.append("")
    lines.append("Rows \"vectorann (server-side)\": every query run inside the backend by a "
                 "PL/pgSQL loop over a `queries` table, each timed with clock_timestamp() "
                 "(QPS = queries / summed seconds); rows \"vectorann\": one prepared "
                 "statement per query from the Python client, round trip included. "
                 "hnswlib and FAISS are timed per Python call.")
    if info.get("interleaved"):
        lines.append("")
        lines.append("Interleaved (the machine's speed drifts by tens of percent from minute to "
                     "minute, so the query ratio is taken from passes of the two engines that "
                     "alternate: one server-side pass of vectorann, one of hnswlib, repeated; "
                     "QPS of the median pass):")
        lines.append("")
        lines.extend(interleaved_table(info["interleaved"], "hnswlib QPS", nq))
    if info.get("interleaved_pgvector"):
        lines.append("")
        lines.append("Beside pgvector, alternating the same way (one server-side pass of "
                     "vectorann, one of pgvector, repeated; QPS of the median pass):")
        lines.append("")
        lines.extend(interleaved_table(info["interleaved_pgvector"], "pgvector (server-side) QPS", nq))
    if info.get("interleaved_rabitq"):
        lines.append("")
        lines.append("Quantized (`quantization = 'rabitq'`, default bits and "
                     "hnsw.rerank_candidates) beside hnswlib, alternating the same way; the "
                     "first QPS column is vectorann_rabitq's:")
        lines.append("")
        lines.extend(interleaved_table(info["interleaved_rabitq"], "hnswlib QPS", nq))
    if info.get("interleaved_rabitq_pgvector"):
        lines.append("")
        lines.append("Quantized beside pgvector (first QPS column vectorann_rabitq's):")
        lines.append("")
        lines.extend(interleaved_table(info["interleaved_rabitq_pgvector"],
                                       "pgvector (server-side) QPS", nq))
    if info.get("equal_recall_rabitq"):
        efa, ra, efb, rb, ta, tb = info["equal_recall_rabitq"]
        ratios = sorted(tb[i] / ta[i] for i in range(len(ta)))
        r = statistics.median(tb) / statistics.median(ta)
        lines.append("")
        lines.append(f"At recall@10 >= 0.99 (issue 14: quantized at least 1.5x hnswlib's rate): "
                     f"vectorann_rabitq (server-side) at ef_search {efa} (recall {ra:.4f}) and "
                     f"hnswlib at ef {efb} (recall {rb:.4f}), alternating {len(ta)} passes each: "
                     f"{nq / statistics.median(ta):.0f} against {nq / statistics.median(tb):.0f} "
                     f"QPS (median passes), {r:.2f}x (pass ratios {ratios[0]:.2f}-{ratios[-1]:.2f}x): "
                     f"{'met' if r >= 1.5 else 'NOT met'}.")
    lines.append("")
    lines.extend(targets(rows, info))
    lines.append("")
    if "pg_load_s" in info:
        lines.append(f"PostgreSQL: COPY + ANALYZE of the base table took "
                     f"{info['pg_load_s']:.1f} s.")
    if "pg_plan_uses_index" in info:
        lines.append("PostgreSQL: the query plan uses the hnsw index: "
                     + ("yes." if info["pg_plan_uses_index"] else
                        "NO (WARNING: the vectorann rows measure a sequential scan)."))
    for engine, err in errors:
        lines.append(f"ERROR ({engine}): {err}")
    lines.append(f"Run: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
                 f"`{' '.join(['hnsw_bench.py'] + sys.argv[1:])}`")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=60000, help="base vectors (default 60000)")
    ap.add_argument("--queries", type=int, default=1000, help="queries (default 1000)")
    # finer steps where the engines first reach recall@10 0.99 on Fashion-MNIST
    # (quantized about 22, hnswlib 38, unquantized and pgvector 30-40), so the
    # comparisons at that recall take each engine's own least ef_search
    ap.add_argument("--ef", default="10,20,22,24,30,36,38,40,80,160,320",
                    help="comma-separated ef_search values "
                         "(default 10,20,22,24,30,36,38,40,80,160,320)")
    ap.add_argument("--engines", default="vectorann,faiss,hnswlib",
                    help="comma-separated subset of " + ",".join(ENGINES) +
                    " (default: all but pgvector, which needs the extension vector)")
    ap.add_argument("--warmup", type=int, default=50,
                    help="untimed queries before each ef_search sweep (default 50)")
    ap.add_argument("--runs", type=int, default=3,
                    help="timed passes over the queries per ef_search; QPS of the best "
                         "(default 3)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternating passes per engine and ef_search in the interleaved "
                         "vectorann/hnswlib comparison (default 5)")
    ap.add_argument("--out",
                    help="markdown report path (default test/bench/out/hnsw_fashion_mnist.md "
                         "for the full data set, hnsw_fashion_mnist_bBASE_qQUERIES.md for "
                         "a smaller run)")
    ap.add_argument("--data-dir", default=DATA_DIR)
    ap.add_argument("--storage", choices=("plain", "default"), default="plain",
                    help="storage of the tables' vector column: plain keeps vectors in "
                         "the row, default leaves them to TOAST (default plain)")
    args, unknown = ap.parse_known_args()
    global STORAGE
    STORAGE = args.storage
    if unknown:
        # test/main.sh passes its arguments to both benchmarks; the ivfflat ones are not ours
        log(f"ignoring arguments for the ivfflat benchmark: {' '.join(unknown)}")

    if args.out is None:
        name = "hnsw_fashion_mnist.md"
        if (args.base, args.queries) != (60000, 1000):
            # A quick run must not overwrite the full run's report.
            name = f"hnsw_fashion_mnist_b{args.base}_q{args.queries}.md"
        args.out = os.path.join(HERE, "out", name)
    efs = [int(v) for v in args.ef.split(",") if v.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")

    log(f"reading Fashion-MNIST from {args.data_dir}")
    base = read_idx_images(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"), args.base)
    queries = read_idx_images(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz"),
                              args.queries)
    log(f"base {base.shape}, queries {queries.shape}")

    log("ground truth: FAISS IndexFlatL2")
    truth = ground_truth(base, queries)

    info = machine_info()
    rows, errors = [], []
    runners = {
        "vectorann": lambda: bench_vectorann(base, queries, efs, args.warmup, args.runs, info),
        "vectorann_rabitq": lambda: bench_vectorann(
            base, queries, efs, args.warmup, args.runs, info, "vectorann_rabitq", "vectorann",
            ", quantization = 'rabitq'"),
        "pgvector": lambda: bench_vectorann(base, queries, efs, args.warmup, args.runs, info,
                                            "pgvector", "vector"),
        "faiss": lambda: bench_faiss(base, queries, efs, args.warmup, args.runs),
        "hnswlib": lambda: bench_hnswlib(base, queries, efs, args.warmup, args.runs),
    }
    for engine in engines:
        log(f"{engine}: build + sweep")
        try:
            build_s, size, sweep = runners[engine]()
        except Exception as e:  # report the others; fail at the end
            log(f"{engine} FAILED: {type(e).__name__}: {e}")
            errors.append((engine, f"{type(e).__name__}: {str(e).strip()}"))
            continue
        log(f"{engine}: build {build_s:.1f} s, index {size / MIB:.1f} MB")
        for ef, found, qps, p99 in sweep:
            recall = recall_at_k(found, truth)
            rows.append((engine, build_s, size, ef, recall, qps, p99))
            log(f"{engine}: ef_search {ef}: recall@10 {recall:.4f}, {qps:.0f} QPS, "
                f"p99 {p99:.2f} ms")
        if f"{engine}_server_sweep" in info:
            for ef, found, qps, p99 in info[f"{engine}_server_sweep"]:
                recall = recall_at_k(found, truth)
                rows.append((f"{engine} (server-side)", build_s, size, ef, recall, qps, p99))
                log(f"{engine} server-side: ef_search {ef}: recall@10 {recall:.4f}, "
                    f"{qps:.0f} QPS, p99 {p99:.2f} ms")

    if "vectorann (server-side)" in PASSES and "hnswlib" in PASSES:
        log(f"interleaved: vectorann (server-side) and hnswlib, {args.rounds} passes each")
        info["interleaved"] = interleaved(efs, PASSES, args.rounds)
        for ef, tv, th in info["interleaved"]:
            log(f"interleaved ef_search {ef}: vectorann {[round(t * 1000) for t in tv]} ms, "
                f"hnswlib {[round(t * 1000) for t in th]} ms")

    if "vectorann_rabitq (server-side)" in PASSES and "hnswlib" in PASSES:
        log(f"interleaved: vectorann_rabitq (server-side) and hnswlib, {args.rounds} passes each")
        info["interleaved_rabitq"] = interleaved_pair(
            efs, PASSES["vectorann_rabitq (server-side)"], PASSES["hnswlib"], args.rounds)
        for ef, tv, th in info["interleaved_rabitq"]:
            log(f"interleaved ef_search {ef}: vectorann_rabitq {[round(t * 1000) for t in tv]} ms, "
                f"hnswlib {[round(t * 1000) for t in th]} ms")

    if "vectorann_rabitq (server-side)" in PASSES and "hnswlib" in PASSES:
        eq = at_equal_recall(rows, "vectorann_rabitq (server-side)", "hnswlib", 0.99, args.rounds)
        if eq:
            info["equal_recall_rabitq"] = eq
            log(f"at recall@10 >= 0.99: vectorann_rabitq ef_search {eq[0]} "
                f"{[round(t * 1000) for t in eq[4]]} ms, hnswlib ef {eq[2]} "
                f"{[round(t * 1000) for t in eq[5]]} ms")

    if "vectorann_rabitq (server-side)" in PASSES and "pgvector (server-side)" in PASSES:
        log(f"interleaved: vectorann_rabitq and pgvector (server-side), {args.rounds} passes each")
        info["interleaved_rabitq_pgvector"] = interleaved_pair(
            efs, PASSES["vectorann_rabitq (server-side)"], PASSES["pgvector (server-side)"],
            args.rounds)

    if "vectorann (server-side)" in PASSES and "pgvector (server-side)" in PASSES:
        log(f"interleaved: vectorann and pgvector (server-side), {args.rounds} passes each")
        info["interleaved_pgvector"] = interleaved_pair(
            efs, PASSES["vectorann (server-side)"], PASSES["pgvector (server-side)"], args.rounds)
        for ef, tv, tp in info["interleaved_pgvector"]:
            log(f"interleaved ef_search {ef}: vectorann {[round(t * 1000) for t in tv]} ms, "
                f"pgvector {[round(t * 1000) for t in tp]} ms")

    raw_bytes = base.shape[0] * base.shape[1] * 4
    info["raw_bytes"] = raw_bytes
    if rows:
        plot = os.path.join(HERE, "plots", "hnsw_recall_qps.png")
        if (args.base, args.queries) != (60000, 1000):
            # a quick run must not overwrite the full run's plot either
            plot = os.path.join(HERE, "out", f"hnsw_recall_qps_b{args.base}_q{args.queries}.png")
        elif not {"vectorann", "hnswlib"} <= set(engines):
            # nor a run of some engines only (the committed plot shows the main job's)
            plot = os.path.join(HERE, "out", "hnsw_recall_qps_" + "_".join(engines) + ".png")
        try:
            write_plot(rows, plot, f"HNSW on Fashion-MNIST ({len(base)} x 784, "
                       f"{len(queries)} queries, M={M}, efC={EF_CONSTRUCTION})")
            log(f"wrote {plot}")
        except Exception as e:  # the table matters more than the picture
            log(f"plot FAILED: {type(e).__name__}: {e}")

    report = render(rows, info, args, len(base), len(queries), errors)
    print()
    print(report, end="")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    log(f"wrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
