"""Quantized hnsw at 3,072 dimensions: vectorann (quantization = 'rabitq') against
hnswlib (full precision, in process) and pgvector's halfvec(3072) expression index.

Data: synthetic, seeded, shaped like text embeddings: --centres random unit centres
(a few hundred), each row a centre plus Gaussian noise, scaled to unit length; the
queries are drawn the same way. Distance: cosine. Every engine builds with m = 16,
ef_construction = 64 in one process, then answers --queries queries, k = 10, at each
ef_search; PostgreSQL engines in a server-side PL/pgSQL loop (as hnsw_bench.py), hnswlib
per Python call, single-threaded. Recall against exact cosine neighbours (numpy).
Reports build time, index size and the recall/QPS sweep, and the QPS ratios from
alternating passes of vectorann and hnswlib. Runs against the cluster in PGHOST/PGPORT
(test/bench/highdim.sh sets one up).

    /usr/bin/python3 test/bench/highdim.py --rows 100000 --engines vectorann_rabitq,hnswlib,pgvector
"""
import argparse
import io
import os
import statistics
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hnsw_bench as hb  # noqa: E402  (log, machine_info, install helpers)

M = 16
EF_CONSTRUCTION = 64
K = 10

# hnsw_bench.py's server-side loop with the cosine operator and these expressions
LOOP_SQL = hb.SERVER_LOOP_SQL.replace("i.embedding <-> q.embedding", "%(expr)s <=> %(qexpr)s")


def make_data(rows, nq, dim, centres, noise, seed):
    """Unit vectors around `centres` random unit centres: (base, queries), float32."""
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((centres, dim)).astype(np.float32)
    c /= np.linalg.norm(c, axis=1, keepdims=True)

    def draw(n):
        x = c[rng.integers(0, centres, n)] + \
            rng.standard_normal((n, dim)).astype(np.float32) * (noise / np.sqrt(dim))
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    return draw(rows).astype(np.float32), draw(nq).astype(np.float32)


def truth(base, queries):
    out = np.empty((len(queries), K), dtype=np.int64)
    for s in range(0, len(queries), 100):
        sims = queries[s:s + 100] @ base.T
        part = np.argpartition(-sims, K, axis=1)[:, :K]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1)
        out[s:s + 100] = np.take_along_axis(part, order, axis=1)
    return out


def recall(found, gt):
    return float(np.mean([len(set(found[i]) & set(gt[i])) / K for i in range(len(gt))]))


def copy_binary(cur, table, x, id_offset=0):
    """COPY (id bigint, embedding vector) FROM STDIN in binary: the vector's binary form
    is int16 dim, int16 0, dim float4, network order."""
    dim = x.shape[1]
    chunk = 2000
    for s in range(0, len(x), chunk):
        buf = io.BytesIO()
        buf.write(b"PGCOPY\n\xff\r\n\0" + struct.pack("!ii", 0, 0))
        for j, row in enumerate(x[s:s + chunk]):
            vec = struct.pack("!hh", dim, 0) + row.astype(">f4").tobytes()
            buf.write(struct.pack("!hiq", 2, 8, id_offset + s + j))
            buf.write(struct.pack("!i", len(vec)) + vec)
        buf.write(struct.pack("!h", -1))
        buf.seek(0)
        cur.copy_expert(f"COPY {table} (id, embedding) FROM STDIN WITH (FORMAT binary)", buf)


def bench_pg(label, extension, base, queries, efs, info, index_sql, expr, qexpr, runs):
    import psycopg2
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    db = "highdim_" + label
    cur.execute(f"DROP DATABASE IF EXISTS {db}")
    cur.execute(f"CREATE DATABASE {db}")
    conn.close()
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (extension,))
    info[label] = cur.fetchone()[0]
    dim = base.shape[1]
    for t in ("items", "queries"):
        cur.execute(f"CREATE TABLE {t} (id bigint PRIMARY KEY, embedding vector({dim}))")
    hb.log(f"{label}: loading {len(base)} rows")
    copy_binary(cur, "items", base)
    copy_binary(cur, "queries", queries)
    cur.execute("ANALYZE items")
    cur.execute("SET maintenance_work_mem = '4GB'")
    cur.execute("SET max_parallel_maintenance_workers = 0")
    hb.log(f"{label}: {index_sql}")
    t0 = time.perf_counter()
    cur.execute(index_sql)
    build = time.perf_counter() - t0
    cur.execute("SELECT pg_relation_size('items_idx')")
    size = cur.fetchone()[0]
    cur.execute(LOOP_SQL % {"expr": expr, "qexpr": qexpr})
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cur.execute("SELECT pg_prewarm('items'), pg_prewarm('items_idx')")
    except psycopg2.Error:
        pass
    sweep = []
    for ef in efs:
        cur.execute(f"SET hnsw.ef_search = {int(ef)}")
        cur.execute("SELECT count(*) FROM bench_knn_loop()")  # warm-up
        best = None
        found = None
        for _ in range(runs):
            cur.execute("SELECT qid, ids, us FROM bench_knn_loop()")
            res = cur.fetchall()
            t = sum(r[2] for r in res) / 1e6
            if best is None or t < best:
                best = t
            found = [r[1] for r in sorted(res)]
        sweep.append((ef, found, len(queries) / best))

    def one_pass(ef):
        cur.execute(f"SET hnsw.ef_search = {int(ef)}")
        cur.execute("SELECT sum(us) FROM bench_knn_loop()")
        return cur.fetchone()[0] / 1e6
    return build, size, sweep, one_pass, conn


def bench_hnswlib(base, queries, efs, runs):
    import hnswlib
    idx = hnswlib.Index(space="cosine", dim=base.shape[1])
    idx.init_index(max_elements=len(base), M=M, ef_construction=EF_CONSTRUCTION, random_seed=1)
    idx.set_num_threads(1)
    t0 = time.perf_counter()
    idx.add_items(base, np.arange(len(base)))
    build = time.perf_counter() - t0
    size = os.path.getsize(save(idx))
    sweep = []

    def one_pass(ef):
        idx.set_ef(max(ef, K))
        t0 = time.perf_counter()
        for q in queries:
            idx.knn_query(q, k=K)
        return time.perf_counter() - t0
    for ef in efs:
        idx.set_ef(max(ef, K))
        found = [idx.knn_query(q, k=K)[0][0] for q in queries]
        best = min(one_pass(ef) for _ in range(runs))
        sweep.append((ef, found, len(queries) / best))
    return build, size, sweep, one_pass


def save(idx):
    path = "/tmp/highdim_hnswlib.bin"
    idx.save_index(path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=3072)
    ap.add_argument("--centres", type=int, default=300)
    ap.add_argument("--noise", type=float, default=1.0,
                    help="noise norm relative to a centre's (default 1.0)")
    ap.add_argument("--ef", default="10,20,40,80,160")
    ap.add_argument("--engines", default="vectorann_rabitq,hnswlib")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "highdim.md"))
    args = ap.parse_args()
    efs = [int(v) for v in args.ef.split(",")]
    engines = args.engines.split(",")

    hb.log(f"data: {args.rows} x {args.dim}, {args.centres} centres, seed 7")
    base, queries = make_data(args.rows, args.queries, args.dim, args.centres, args.noise, 7)
    gt = truth(base, queries)
    info = {}
    rows = []
    passes = {}
    keep = []
    for e in engines:
        if e == "hnswlib":
            build, size, sweep, one = bench_hnswlib(base, queries, efs, args.runs)
        elif e == "vectorann_rabitq":
            build, size, sweep, one, conn = bench_pg(
                e, "vectorann", base, queries, efs, info,
                f"CREATE INDEX items_idx ON items USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {M}, ef_construction = {EF_CONSTRUCTION}, quantization = 'rabitq')",
                "i.embedding", "q.embedding", args.runs)
            keep.append(conn)
        elif e == "pgvector":
            build, size, sweep, one, conn = bench_pg(
                e, "vector", base, queries, efs, info,
                f"CREATE INDEX items_idx ON items USING hnsw ((embedding::halfvec({args.dim})) "
                f"halfvec_cosine_ops) WITH (m = {M}, ef_construction = {EF_CONSTRUCTION})",
                f"i.embedding::halfvec({args.dim})", f"q.embedding::halfvec({args.dim})",
                args.runs)
            keep.append(conn)
        else:
            ap.error(f"unknown engine {e}")
        passes[e] = one
        hb.log(f"{e}: build {build:.1f} s, index {size / 2**20:.1f} MB")
        for ef, found, qps in sweep:
            r = recall(np.array([list(f)[:K] + [-1] * (K - len(f)) for f in found]), gt)
            rows.append((e, build, size, ef, r, qps))
            hb.log(f"{e}: ef {ef}: recall@10 {r:.4f}, {qps:.0f} QPS")

    inter = []
    if "vectorann_rabitq" in passes and "hnswlib" in passes:
        for ef in efs:
            a, b = passes["vectorann_rabitq"], passes["hnswlib"]
            a(ef), b(ef)
            ta, tb = [], []
            for _ in range(args.rounds):
                ta.append(a(ef))
                tb.append(b(ef))
            inter.append((ef, ta, tb))
            hb.log(f"interleaved ef {ef}: vectorann_rabitq/hnswlib QPS ratio "
                   f"{statistics.median(tb) / statistics.median(ta):.2f}")

    lines = [f"# Quantized hnsw at {args.dim} dimensions (synthetic, cosine)", "",
             f"- data: {args.rows} rows, {args.queries} queries, {args.dim} dimensions, "
             f"{args.centres} centres, noise {args.noise}, seed 7; k = 10; m = {M}, "
             f"ef_construction = {EF_CONSTRUCTION}; one process for every build",
             f"- vectorann: {info.get('vectorann_rabitq', '-')}, `quantization = 'rabitq'`, "
             f"default bits and hnsw.rerank_candidates; pgvector: {info.get('pgvector', '-')}, "
             f"`halfvec({args.dim})` expression index; hnswlib full precision, one thread",
             "", "| engine | build s | index MB | ef_search | recall@10 | QPS |",
             "|---|---:|---:|---:|---:|---:|"]
    for e, build, size, ef, r, qps in rows:
        lines.append(f"| {e} | {build:.1f} | {size / 2**20:.1f} | {ef} | {r:.4f} | {qps:.0f} |")
    if inter:
        lines += ["", "Alternating passes (median of each engine's passes):", "",
                  "| ef_search | vectorann_rabitq QPS | hnswlib QPS | ratio |", "|---:|---:|---:|---:|"]
        for ef, ta, tb in inter:
            lines.append(f"| {ef} | {args.queries / statistics.median(ta):.0f} | "
                         f"{args.queries / statistics.median(tb):.0f} | "
                         f"{statistics.median(tb) / statistics.median(ta):.2f} |")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
