#!/usr/bin/python3
"""HNSW at scale on synthetic data: vectorann (inside PostgreSQL) against hnswlib.

Clustered Gaussian vectors, 128 dimensions, seeded (numpy default_rng(7)):
1,000 centres drawn from N(0, 1), each vector a random centre plus N(0, 0.35^2)
noise, scaled by 100 and rounded to integers (exact text form, fast to load).
1,000 queries from the same distribution. For every size given (default 100,000
and 1,000,000): build with m = 16, ef_construction = 64 on one thread (PostgreSQL:
max_parallel_maintenance_workers = 0), index size, and recall@10 against exact
ground truth plus server-side QPS and p99 at ef_search 40 and 100 (the PL/pgSQL
loop of hnsw_bench.py), then how build and query time grow from the smallest
size to the largest.

Not part of test/main.sh (the 1,000,000 run takes a long time). Run through
test/bench/scale.sh, which starts a throwaway cluster:

    bash test/bench/scale.sh                       # 100,000 and 1,000,000
    bash test/bench/scale.sh --sizes 100000        # 100,000 only
"""

import argparse
import io
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402

DIM = 128
EFS = (40, 100)
MIB = 1024.0 * 1024.0


def make_data(n, nq, seed=7):
    """n base and nq query vectors (float32, integral values), seeded."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((1000, DIM))
    def draw(m):
        out = np.empty((m, DIM), dtype=np.float32)
        for s in range(0, m, 100000):
            e = min(m, s + 100000)
            c = centres[rng.integers(0, 1000, e - s)]
            out[s:e] = np.round((c + 0.35 * rng.standard_normal((e - s, DIM))) * 100)
        return out
    return draw(n), draw(nq)


def run_vectorann(base, queries, warmup, runs):
    import psycopg2
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vectorann")
    hb.create_vector_table(cur, "items", "bigint", DIM)
    hb.create_vector_table(cur, "queries", "int", DIM)
    hb.log(f"vectorann: loading {len(base)} rows")
    for s in range(0, len(base), 50000):
        lits = hb.vector_literals(base[s:s + 50000])
        cur.copy_expert("COPY items FROM STDIN",
                        io.StringIO("".join(f"{s + j}\t{v}\n" for j, v in enumerate(lits))))
    lits = hb.vector_literals(queries)
    cur.copy_expert("COPY queries FROM STDIN",
                    io.StringIO("".join(f"{j}\t{v}\n" for j, v in enumerate(lits))))
    cur.execute("ANALYZE items")
    cur.execute("SET maintenance_work_mem = '8GB'")
    cur.execute("SET max_parallel_maintenance_workers = 0")
    hb.log("vectorann: CREATE INDEX")
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX items_idx ON items USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION})")
    build_s = time.perf_counter() - t0
    cur.execute("SELECT pg_relation_size('items_idx')")
    size = cur.fetchone()[0]
    cur.execute(hb.SERVER_LOOP_SQL)
    sweep = hb.server_sweep(cur, len(queries), EFS, warmup, runs)
    cur.execute("DROP TABLE items")
    conn.close()
    return build_s, size, sweep


def run_hnswlib(base, queries, warmup, runs):
    import hnswlib
    index = hnswlib.Index(space="l2", dim=DIM)
    index.init_index(max_elements=len(base), M=hb.M, ef_construction=hb.EF_CONSTRUCTION,
                     random_seed=100)
    index.set_num_threads(1)
    hb.log("hnswlib: build")
    t0 = time.perf_counter()
    index.add_items(base, np.arange(len(base)), num_threads=1)
    build_s = time.perf_counter() - t0
    size = index.get_current_count() * (DIM * 4 + 8 + (2 * hb.M + 1) * 4)  # level 0, approx.

    def search_one(i):
        ids, _ = index.knn_query(queries[i:i + 1], k=hb.K, num_threads=1)
        return ids[0]

    def set_ef(ef):
        index.set_ef(ef)

    return build_s, size, hb.timed_sweep(search_one, len(queries), EFS, set_ef, warmup, runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    sizes = [int(v) for v in args.sizes.split(",")]

    rows = []
    for n in sizes:
        hb.log(f"{n} x {DIM}: generating")
        base, queries = make_data(n, args.queries)
        truth = hb.ground_truth(base, queries)
        for engine, fn in (("vectorann", run_vectorann), ("hnswlib", run_hnswlib)):
            build_s, size, sweep = fn(base, queries, args.warmup, args.runs)
            for ef, found, qps, p99 in sweep:
                r = hb.recall_at_k(found, truth)
                rows.append((n, engine, build_s, size, ef, r, qps, p99))
                hb.log(f"{n} {engine}: build {build_s:.1f} s, {size / MIB:.0f} MB, ef {ef}: "
                       f"recall@10 {r:.4f}, {qps:.0f} QPS, p99 {p99:.2f} ms")

    print()
    print(f"| rows | engine | build s | index MB | raw MB | ef_search | recall@10 | QPS | p99 ms |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n, engine, build_s, size, ef, r, qps, p99 in rows:
        size_s = f"{size / MIB:.0f}" if engine == "vectorann" else f"~{size / MIB:.0f}"
        print(f"| {n} | {engine} | {build_s:.1f} | {size_s} | {n * DIM * 4 / MIB:.0f} | {ef} | "
              f"{r:.4f} | {qps:.0f} | {p99:.2f} |")
    if len(sizes) > 1:
        lo, hi = sizes[0], sizes[-1]
        print()
        for engine in ("vectorann", "hnswlib"):
            b = {n: bs for n, e, bs, *_ in rows if e == engine}
            q = {(n, ef): qps for n, e, _, _, ef, _, qps, _ in rows if e == engine}
            print(f"- {engine}: {hi // lo}x the rows: build time x{b[hi] / b[lo]:.1f}; "
                  + ", ".join(f"time per query at ef_search {ef} x{q[(lo, ef)] / q[(hi, ef)]:.2f}"
                              for ef in EFS))
    print()
    print("hnswlib's index MB is estimated from its layer-0 layout (vector, label, 2M links).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
