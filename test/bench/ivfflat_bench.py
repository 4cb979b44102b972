#!/usr/bin/python3
"""IVFFlat on Fashion-MNIST: vectorann (inside PostgreSQL) against pgvector and FAISS IndexIVFFlat.

Same data, ground truth and timing rules as hnsw_bench.py (whose helpers this script
imports): the 60,000 training images are the base set, the first N test images the
queries (784 dimensions, L2, k = 10). Every engine builds an inverted file with
`lists` = 245 k-means centroids on one thread, then sweeps the number of lists probed
per query (ivfflat.probes / FAISS nprobe), reporting build seconds (one
process, and vectorann with 2 parallel workers), index size, recall@10 against exact
ground truth, queries per second and p99 latency, one query at a time; vectorann both
from the client and server-side. Writes the report to test/bench/out/ and the
recall-vs-QPS plot to test/bench/plots/ivfflat_recall_qps.png.

PostgreSQL is reached through libpq's environment (PGHOST, PGPORT, PGUSER,
PGDATABASE); start a cluster first (test/main.sh shows how). The table `items` in
that database is dropped and recreated. test/main.sh runs it after hnsw_bench.py.

pgvector (engine pgvector) needs the extension `vector` installed in the same
PostgreSQL (test/main.sh builds it from shared/anchors when the tarball is there and
then passes --engines with it); it runs in a database of its own, bench_pgvector,
and is built and swept like vectorann. Since the machine's speed drifts, the QPS
ratio against it comes from server-side passes of the two that alternate
(hnsw_bench.interleaved_pair), --rounds passes each per probes value.

    /usr/bin/python3 test/bench/ivfflat_bench.py                      # full run
    /usr/bin/python3 test/bench/ivfflat_bench.py --base 5000 --queries 100 --lists 50
"""

import argparse
import io
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402  (data loading, ground truth, timing, report bits)

ENGINES = ("vectorann", "vectorann_rabitq", "vectorann_pq", "pgvector", "faiss", "faiss_pq")
DEFAULT_ENGINES = ("vectorann", "faiss")
K = hb.K
MIB = hb.MIB


def faiss_ivf(base, queries, lists, probes, warmup, runs, pq_m=None, k_factor=None):
    """Build a FAISS inverted file on base, one thread, seeded k-means:
    IndexIVFFlat, or with pq_m IndexIVFPQ (8-bit codes of pq_m subvectors of
    the residuals, as vectorann_pq) wrapped in IndexRefineFlat so that the
    k_factor * k best estimates are re-ranked with exact distances
    (vectorann_pq re-ranks from the table by its error bound instead); then
    sweep nprobe. Returns build seconds, the inverted file's serialized size
    (without the refine stage's copy of the raw vectors) and the sweep."""
    import faiss
    faiss.omp_set_num_threads(1)
    dim = base.shape[1]
    quantizer = faiss.IndexFlatL2(dim)
    if pq_m is None:
        ivf = faiss.IndexIVFFlat(quantizer, dim, lists, faiss.METRIC_L2)
    else:
        ivf = faiss.IndexIVFPQ(quantizer, dim, lists, pq_m, 8)
    ivf.cp.seed = 1234
    t0 = time.perf_counter()
    ivf.train(base)
    ivf.add(base)
    build_s = time.perf_counter() - t0
    size = faiss.serialize_index(ivf).size
    index = ivf
    if pq_m is not None:
        index = faiss.IndexRefineFlat(ivf, faiss.swig_ptr(base))
        index.k_factor = k_factor

    def set_probes(p):
        ivf.nprobe = p

    def search_one(i):
        _, ids = index.search(queries[i:i + 1], K)
        return ids[0]

    return build_s, size, hb.timed_sweep(search_one, len(queries), probes, set_probes,
                                         warmup, runs)


def bench_vectorann(base, queries, lists, probes, warmup, runs, info, label="vectorann",
                    extension="vectorann", index_with="", session_sql=()):
    """Build and sweep one PostgreSQL extension's ivfflat: vectorann in the
    environment's database, or (label pgvector, extension vector) pgvector in a
    database of its own (hb.open_engine_db); label vectorann_rabitq is vectorann
    with index_with (", quantization = 'rabitq'") added to the index options, in
    a database of its own too, and so is vectorann_pq (", quantization = 'pq', pq_m =
    M"; session_sql sets ivfflat.rerank_candidates). All are timed the same way; info gets
    the parallel build time and the server-side sweep under keys carrying the label,
    and PASSES[label + " (server-side)"] a function timing one server-side pass."""
    import psycopg2
    n, dim = base.shape
    conn, cur = hb.open_engine_db(label, extension, info)
    hb.load_items(cur, base, label, info)
    key = "pg" if label == "vectorann" else label

    for stmt in session_sql:
        cur.execute(stmt)
    cur.execute("SET maintenance_work_mem = '2GB'")
    cur.execute("SET max_parallel_maintenance_workers = 0")
    hb.log(f"{label}: CREATE INDEX")
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) "
                f"WITH (lists = {lists}{index_with})")
    build_s = time.perf_counter() - t0
    cur.execute("SELECT pg_relation_size('items_ivf')")
    size = cur.fetchone()[0]

    # the same build with two parallel workers (the leader takes part too); its
    # index (vectorann's lists lie contiguously) is the one queried
    cur.execute("DROP INDEX items_ivf")
    cur.execute("ALTER TABLE items SET (parallel_workers = 2)")
    cur.execute("SET max_parallel_maintenance_workers = 2")
    hb.log(f"{label}: CREATE INDEX with 2 parallel workers")
    t0 = time.perf_counter()
    cur.execute(f"CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) "
                f"WITH (lists = {lists}{index_with})")
    info[f"{key}_parallel_build_s"] = time.perf_counter() - t0
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        cur.execute("SELECT pg_prewarm('items'), pg_prewarm('items_ivf')")
    except psycopg2.Error as e:
        hb.log(f"{label}: pg_prewarm unavailable ({e.pgerror or e})")

    qlits = hb.vector_literals(queries)
    cur.execute("PREPARE knn AS SELECT id FROM items ORDER BY embedding <-> $1::vector LIMIT 10")
    cur.execute("EXPLAIN (COSTS OFF) EXECUTE knn(%s)", (qlits[0],))
    plan = "\n".join(r[0] for r in cur.fetchall())
    info[f"{key}_plan_uses_index"] = "items_ivf" in plan
    statements = [f"EXECUTE knn('{lit}')" for lit in qlits]

    def set_probes(p):
        cur.execute(f"SET ivfflat.probes = {int(p)}")

    def search_one(i):
        cur.execute(statements[i])
        return [r[0] for r in cur.fetchall()]

    sweep = hb.timed_sweep(search_one, len(queries), probes, set_probes, warmup, runs)
    cur.execute("DEALLOCATE knn")

    hb.log(f"{label}: server-side sweep (PL/pgSQL loop over a queries table)")
    hb.create_vector_table(cur, "queries", "int", dim)
    text = "".join(f"{j}\t{lit}\n" for j, lit in enumerate(qlits))
    cur.copy_expert("COPY queries (id, embedding) FROM STDIN", io.StringIO(text))
    cur.execute(hb.SERVER_LOOP_SQL)
    info[f"{key}_server_sweep"] = hb.server_sweep(cur, len(queries), probes, min(warmup, 1),
                                                  runs, setting="ivfflat.probes")

    def one_pass(p):
        cur.execute(f"SET ivfflat.probes = {int(p)}")
        cur.execute("SELECT sum(us) FROM bench_knn_loop()")
        return cur.fetchone()[0] / 1e6

    PASSES[f"{label} (server-side)"] = one_pass  # keeps conn open until exit
    return build_s, size, sweep


# One timed server-side pass over all queries at a given probes, per PostgreSQL
# engine, for the interleaved comparison (filled in by bench_vectorann).
PASSES = {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=int, default=60000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--lists", type=int, default=245)
    ap.add_argument("--probes", default="1,2,4,8,16,32")
    ap.add_argument("--engines", default=",".join(DEFAULT_ENGINES),
                    help=f"comma-separated, of {', '.join(ENGINES)} (default: all but "
                         "pgvector, which needs the extension vector)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="alternating server-side passes per engine and probes value in "
                         "the vectorann/pgvector comparison")
    ap.add_argument("--pq-m", type=int, default=49,
                    help="pq_m of engine vectorann_pq (784 = 49 subvectors of 16)")
    ap.add_argument("--pq-rerank", type=int, default=0,
                    help="ivfflat.rerank_candidates of engine vectorann_pq (0: the "
                         "error bound alone, the default)")
    ap.add_argument("--faiss-k-factor", type=int, default=10,
                    help="engine faiss_pq: re-rank k_factor * 10 estimates exactly "
                         "(IndexRefineFlat)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", help="markdown report (default test/bench/out/"
                                  "ivfflat_fashion_mnist[_bBASE_qQUERIES].md)")
    ap.add_argument("--data-dir", default=hb.DATA_DIR)
    ap.add_argument("--storage", choices=("plain", "default"), default="plain",
                    help="storage of the tables' vector column (see hnsw_bench.py)")
    args, unknown = ap.parse_known_args()
    hb.STORAGE = args.storage
    if unknown:
        # test/main.sh passes its arguments to both benchmarks; the hnsw ones are not ours
        hb.log(f"ignoring arguments for the hnsw benchmark: {' '.join(unknown)}")
    if args.out is None:
        name = "ivfflat_fashion_mnist.md"
        if (args.base, args.queries) != (60000, 1000):
            name = f"ivfflat_fashion_mnist_b{args.base}_q{args.queries}.md"
        args.out = os.path.join(hb.HERE, "out", name)
    probes = [int(v) for v in args.probes.split(",") if v.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")

    base = hb.read_idx_images(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"),
                              args.base)
    queries = hb.read_idx_images(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz"),
                                 args.queries)
    hb.log(f"base {base.shape}, queries {queries.shape}; ground truth")
    truth = hb.ground_truth(base, queries)

    info = hb.machine_info()
    rows, errors = [], []
    for engine in engines:
        hb.log(f"{engine}: build + sweep")
        try:
            if engine == "faiss":
                build_s, size, sweep = faiss_ivf(base, queries, args.lists, probes,
                                                 args.warmup, args.runs)
            elif engine == "faiss_pq":
                build_s, size, sweep = faiss_ivf(base, queries, args.lists, probes,
                                                 args.warmup, args.runs, args.pq_m,
                                                 args.faiss_k_factor)
            elif engine == "vectorann_pq":
                build_s, size, sweep = bench_vectorann(
                    base, queries, args.lists, probes, args.warmup, args.runs, info,
                    engine, "vectorann", f", quantization = 'pq', pq_m = {args.pq_m}",
                    (f"SET ivfflat.rerank_candidates = {args.pq_rerank}",))
            elif engine == "vectorann_rabitq":
                build_s, size, sweep = bench_vectorann(
                    base, queries, args.lists, probes, args.warmup, args.runs, info,
                    engine, "vectorann", ", quantization = 'rabitq'")
            else:
                build_s, size, sweep = bench_vectorann(
                    base, queries, args.lists, probes, args.warmup, args.runs, info,
                    engine, "vector" if engine == "pgvector" else "vectorann")
        except Exception as e:
            hb.log(f"{engine} FAILED: {type(e).__name__}: {e}")
            errors.append((engine, f"{type(e).__name__}: {str(e).strip()}"))
            continue
        for p, found, qps, p99 in sweep:
            recall = hb.recall_at_k(found, truth)
            rows.append((engine, build_s, size, p, recall, qps, p99))
            hb.log(f"{engine}: probes {p}: recall@10 {recall:.4f}, {qps:.0f} QPS, "
                   f"p99 {p99:.2f} ms")
        key = "pg" if engine == "vectorann" else engine
        for p, found, qps, p99 in info.get(f"{key}_server_sweep", []):
            recall = hb.recall_at_k(found, truth)
            rows.append((f"{engine} (server-side)", build_s, size, p, recall, qps, p99))
            hb.log(f"{engine} server-side: probes {p}: recall@10 {recall:.4f}, "
                   f"{qps:.0f} QPS, p99 {p99:.2f} ms")

    # each vectorann engine against pgvector, in alternating server-side passes
    for engine, key in (("vectorann", "interleaved_pgvector"),
                        ("vectorann_pq", "interleaved_pq_pgvector"),
                        ("vectorann_rabitq", "interleaved_rabitq_pgvector")):
        if f"{engine} (server-side)" not in PASSES or "pgvector (server-side)" not in PASSES:
            continue
        hb.log(f"interleaved: {engine} and pgvector (server-side), {args.rounds} passes each")
        info[key] = hb.interleaved_pair(
            probes, PASSES[f"{engine} (server-side)"], PASSES["pgvector (server-side)"],
            args.rounds)
        for p, tv, tp in info[key]:
            hb.log(f"interleaved probes {p}: {engine} {[round(t * 1000) for t in tv]} ms, "
                   f"pgvector {[round(t * 1000) for t in tp]} ms")

    if rows:
        plot = os.path.join(hb.HERE, "plots", "ivfflat_recall_qps.png")
        if (args.base, args.queries) != (60000, 1000):
            # a quick run must not overwrite the full run's plot either
            plot = os.path.join(hb.HERE, "out", f"ivfflat_recall_qps_b{args.base}_q{args.queries}.png")
        try:
            hb.write_plot(rows, plot, f"IVFFlat on Fashion-MNIST ({len(base)} x 784, "
                          f"{len(queries)} queries, lists={args.lists})")
            hb.log(f"wrote {plot}")
        except Exception as e:
            hb.log(f"plot FAILED: {type(e).__name__}: {e}")

    raw = base.shape[0] * base.shape[1] * 4
    lines = ["# IVFFlat on Fashion-MNIST: vectorann vs pgvector and FAISS IndexIVFFlat", "",
             f"- data: {len(base)} base vectors (train images), {len(queries)} queries "
             f"(first t10k images), 784 dims, L2, k = {K}",
             f"- index: lists = {args.lists}, built on one thread (FAISS trains on all base "
             "vectors; vectorann on a sample of 50 rows per list)",
             f"- queries one at a time; QPS best of {args.runs} passes. \"vectorann\": a "
             "prepared statement from the Python client over a unix socket (round trip "
             "included); \"vectorann (server-side)\": a PL/pgSQL loop over a `queries` "
             "table inside the backend, each query timed with clock_timestamp(); FAISS "
             "timed per Python call",
             f"- machine: {info.get('cpu')}, {info.get('cores')} cores; PostgreSQL "
             f"{info.get('postgres', 'not run')}"
             + (f"; pgvector {info['pgvector']}" if "pgvector" in info else "")
             + (f", vector column storage {info['pg_storage']}" if info.get("pg_storage") else ""),
             "",
             "| engine | build s | index MB | probes | recall@10 | QPS | p99 ms | QPS / FAISS |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    fa = {r[3]: r for r in rows if r[0] == "faiss"}
    for engine, build_s, size, p, recall, qps, p99 in rows:
        ratio = f"{qps / fa[p][5]:.2f}" if p in fa else "-"
        lines.append(f"| {engine} | {build_s:.1f} | {size / MIB:.1f} | {p} | "
                     f"{recall:.4f} | {qps:.0f} | {p99:.2f} | {ratio} |")
    lines.append("")
    headings = {
        "interleaved_pgvector":
            "Beside pgvector (the machine's speed drifts by tens of percent from minute to "
            "minute, so the ratio comes from server-side passes that alternate: one of "
            "vectorann, one of pgvector, repeated; QPS of the median pass; recall from the "
            "sweeps above):",
        "interleaved_rabitq_pgvector":
            "Quantized (`quantization = 'rabitq'`, default bits and "
            "`ivfflat.rerank_candidates`) beside pgvector, alternating server-side passes "
            "as above (first QPS column is vectorann_rabitq's):",
        "interleaved_pq_pgvector":
            f"Product-quantized (`quantization = 'pq', pq_m = {args.pq_m}`, "
            f"`ivfflat.rerank_candidates = {args.pq_rerank}`) beside pgvector, alternating "
            "server-side passes as above (first QPS column is vectorann_pq's):",
    }
    for key, heading in headings.items():
        if info.get(key):
            lines.extend([heading, ""])
            lines.extend(hb.interleaved_table(info[key], "pgvector (server-side) QPS",
                                              len(queries), setting="probes"))
            lines.append("")
    v8 = next((r for r in rows if r[0] == "vectorann (server-side)" and r[3] == 8), None)
    f8 = fa.get(8)
    if v8 and f8:
        d = v8[4] - f8[4]
        lines.append(f"- recall@10 at probes = 8: vectorann {v8[4]:.4f}, FAISS {f8[4]:.4f} "
                     f"(difference {d:+.4f}; issue 5 asks within 0.01: "
                     f"{'met' if abs(d) <= 0.01 or d > 0 else 'NOT met'})")
    pv = {r[3]: r[4] for r in rows if r[0] == "pgvector (server-side)"}
    vv = {r[3]: r[4] for r in rows if r[0] == "vectorann (server-side)"}
    if pv and vv:
        lines.append("- recall@10, vectorann - pgvector: " + ", ".join(
            f"probes {p}: {vv[p] - pv[p]:+.4f}" for p in sorted(pv) if p in vv))
    pb = next((r for r in rows if r[0] == "pgvector"), None)
    vb = next((r for r in rows if r[0] == "vectorann"), None)
    if vb and "pg_parallel_build_s" in info:
        p = info["pg_parallel_build_s"]
        lines.append(f"- build with 2 parallel workers (+ the leader): {p:.1f} s "
                     f"(speed-up {vb[1] / p:.2f}x over one process)")
    if pb and "pgvector_parallel_build_s" in info:
        lines.append(f"- pgvector build: {pb[1]:.1f} s in one process, "
                     f"{info['pgvector_parallel_build_s']:.1f} s with 2 parallel workers")
    if vb:
        lines.append(f"- size: {vb[2] / MIB:.1f} MB, {vb[2] / raw:.2f}x the raw float32 "
                     f"vectors ({raw / MIB:.1f} MB)")
    for key, name in (("pg", "vectorann"), ("pgvector", "pgvector")):
        if f"{key}_plan_uses_index" in info:
            lines.append(f"- PostgreSQL ({name}): the query plan uses the ivfflat index: "
                         + ("yes." if info[f"{key}_plan_uses_index"] else "NO."))
    for engine, err in errors:
        lines.append(f"ERROR ({engine}): {err}")
    report = "\n".join(lines) + "\n"
    print(report, end="")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report)
    hb.log(f"wrote {args.out}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
