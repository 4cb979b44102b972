#!/usr/bin/python3
"""IVFFlat at scale (issue 15): vectorann's ivfflat, plain and quantized, against pgvector's.

Data: test/bench/scale.py's make_data (1,000 clustered centres, 128 dimensions,
integral values, seeded), --rows base vectors (default 1,000,000) and --queries
queries (default 1,000). L2, k = 10, lists = 1,000 (about sqrt(rows)).

Engines (--engines, default all), each in a database of its own with the same rows
(bench_scale_ENGINE: the first vectorann one is loaded with COPY, the other
vectorann ones are copies of it made before any index exists; pgvector's is loaded
with COPY in the same order):
  vectorann          ivfflat, quantization = 'none'
  vectorann_rabitq   ivfflat, quantization = 'rabitq' (default bits)
  vectorann_pq       ivfflat, quantization = 'pq' (default pq_m)
  pgvector           pgvector's ivfflat (extension vector)

For each engine, in this order:
  1. CREATE INDEX in one process (max_parallel_maintenance_workers = 0), timed from
     the client, with the build's phases timed by polling
     pg_stat_progress_create_index from a second connection (every 0.2 s: each
     phase's time is from the first poll that saw it to the next phase, the last
     one up to the end of CREATE INDEX, so it includes WAL-logging the index and
     the commit); index size; the index is dropped.
  2. with --perf DIR and the engine named in --perf-engines: the same serial build
     again under `perf record -g -p BACKEND_PID` (DIR/perf_ENGINE.data), not timed;
     dropped.
  3. CREATE INDEX with 2 parallel workers (the table's parallel_workers = 2,
     max_parallel_maintenance_workers = 2), timed the same way. This index is the
     one queried.
  4. pg_prewarm of table and index, then the server-side sweep of hnsw_bench.py (a
     PL/pgSQL loop over a `queries` table, every query timed inside the backend)
     at each --probes value: one warm-up pass, --runs passes, QPS of the best,
     recall@10 of the first against exact ground truth (hnsw_bench.ground_truth:
     FAISS IndexFlatL2 computing every sum of squared differences directly, exact
     for these integral vectors; the first 20 queries are checked against a numpy
     float64 brute force, which alone would take minutes with Debian's reference
     BLAS).
Then every other engine's passes alternate with pgvector's (hnsw_bench.
interleaved_pair, --rounds each per probes value): the QPS ratios reported are
those of the median passes. Then --build-rounds rounds (default 3) of the builds
again, engines in turn (pgvector first), serial then with 2 workers: the build
ratios of the issue's target are those of these medians (pgvector's own build time
varies by a third from one minute to the next here). The machine's load average is
noted around every step.

The report (markdown) goes to stdout and test/bench/out/ivfflat_scale_ROWS.md.
PostgreSQL is reached through libpq's environment (PGHOST, PGPORT, PGUSER,
PGDATABASE). Run through the wrapper, which builds and installs vectorann (and
pgvector from shared/anchors) and starts a throwaway cluster:

    bash test/bench/ivfflat_scale.sh                         # 1,000,000 rows
    bash test/bench/ivfflat_scale.sh --rows 100000 --queries 200
    VA_PGBIN=/opt/pg/usr/lib/postgresql/15/bin bash test/bench/ivfflat_scale.sh \\
        --engines vectorann_pq,pgvector --perf /tmp/prof --perf-engines vectorann_pq

Not part of test/main.sh (the 1,000,000-row run takes most of an hour).
"""

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402  (literals, ground truth, server loop, interleaving)
from scale import DIM, make_data  # noqa: E402  (the scale run's data)

K = hb.K
MIB = hb.MIB
ENGINES = {  # label: (extension, index options after lists)
    "vectorann": ("vectorann", ""),
    "vectorann_rabitq": ("vectorann", ", quantization = 'rabitq'"),
    "vectorann_pq": ("vectorann", ", quantization = 'pq'"),
    "pgvector": ("vector", ""),
}


def connect(dbname=None):
    import psycopg2
    conn = psycopg2.connect(dbname=dbname) if dbname else psycopg2.connect("")
    conn.autocommit = True
    return conn


def load():
    return "%.2f" % os.getloadavg()[0]


def prepare_databases(engines, base):
    """Make bench_scale_ENGINE for every engine, with the table items (id bigint,
    embedding vector(128), storage plain) holding base, ids 0..n-1, analyzed."""
    admin = connect()
    cur = admin.cursor()
    source = None
    text_chunks = None
    for engine in engines:
        ext, _ = ENGINES[engine]
        db = "bench_scale_" + engine
        cur.execute(f"DROP DATABASE IF EXISTS {db}")
        if ext == "vectorann" and source is not None:
            hb.log(f"{engine}: database copied from {source}")
            cur.execute(f"CREATE DATABASE {db} TEMPLATE {source} STRATEGY FILE_COPY")
            continue
        cur.execute(f"CREATE DATABASE {db}")
        conn = connect(db)
        c = conn.cursor()
        c.execute(f"CREATE EXTENSION {ext}")
        hb.create_vector_table(c, "items", "bigint", DIM)
        hb.log(f"{engine}: loading {len(base)} rows with COPY")
        if text_chunks is None:
            text_chunks = []
            for s in range(0, len(base), 50000):
                lits = hb.vector_literals(base[s:s + 50000])
                text_chunks.append("".join(f"{s + j}\t{v}\n" for j, v in enumerate(lits)))
        for t in text_chunks:
            c.copy_expert("COPY items (id, embedding) FROM STDIN", io.StringIO(t))
        c.execute("ANALYZE items")
        c.execute("CHECKPOINT")
        conn.close()
        if ext == "vectorann":
            source = db
    admin.close()


class Progress(threading.Thread):
    """Polls pg_stat_progress_create_index for one backend; phases() gives each
    phase's seconds, the last one up to stop()."""

    def __init__(self, pid, dbname):
        super().__init__(daemon=True)
        self.pid, self.seen, self.done = pid, [], threading.Event()
        # the index AM's phase names come from pg_am: connect to the index's database
        self.conn = connect(dbname)

    def run(self):
        cur = self.conn.cursor()
        while not self.done.is_set():
            cur.execute("SELECT phase FROM pg_stat_progress_create_index WHERE pid = %s",
                        (self.pid,))
            row = cur.fetchone()
            if row and (not self.seen or self.seen[-1][1] != row[0]):
                self.seen.append((time.perf_counter(), row[0]))
            self.done.wait(0.2)

    def stop(self):
        self.end = time.perf_counter()
        self.done.set()
        self.join()
        self.conn.close()

    def phases(self):
        out = []
        for i, (t, phase) in enumerate(self.seen):
            t_next = self.seen[i + 1][0] if i + 1 < len(self.seen) else self.end
            out.append((phase.replace("building index: ", ""), t_next - t))
        return out


def timed_build(cur, pid, sql):
    """Run CREATE INDEX sql; returns (seconds, [(phase, seconds)])."""
    prog = Progress(pid, cur.connection.info.dbname)
    prog.start()
    t0 = time.perf_counter()
    cur.execute(sql)
    secs = time.perf_counter() - t0
    prog.stop()
    return secs, prog.phases()


def bench_engine(engine, queries, lists, probes, runs, perf_dir, info):
    """Builds (serial, perf'd if asked, parallel) and the server-side sweep of one
    engine. Returns a dict; leaves its connection open for the alternating passes."""
    ext, with_ = ENGINES[engine]
    conn = connect("bench_scale_" + engine)
    cur = conn.cursor()
    cur.execute("SELECT pg_backend_pid()")
    pid = cur.fetchone()[0]
    cur.execute("SELECT extversion FROM pg_extension WHERE extname = %s", (ext,))
    res = {"engine": engine, "version": cur.fetchone()[0], "load": {}}
    sql = (f"CREATE INDEX items_ivf ON items USING ivfflat (embedding vector_l2_ops) "
           f"WITH (lists = {lists}{with_})")
    res["sql"] = sql
    cur.execute("SET maintenance_work_mem = '2GB'")

    def build(kind, label):
        """One timed CREATE INDEX into res[kind + "_s"], its phases, the load
        before and after, and the index size; returns the size."""
        hb.log(f"{engine}: CREATE INDEX, {label} (load {load()})")
        res["load"][kind] = [load()]
        res[f"{kind}_s"], res[f"{kind}_phases"] = timed_build(cur, pid, sql)
        res["load"][kind].append(load())
        cur.execute("SELECT pg_relation_size('items_ivf')")
        size = cur.fetchone()[0]
        hb.log(f"{engine}: {label} {res[f'{kind}_s']:.1f} s, {size / MIB:.1f} MB, phases "
               + ", ".join(f"{p} {s:.1f} s" for p, s in res[f"{kind}_phases"]))
        return size

    cur.execute("SET max_parallel_maintenance_workers = 0")
    res["size"] = build("serial", "one process")
    cur.execute("DROP INDEX items_ivf")

    if perf_dir and engine in info["perf_engines"]:
        os.makedirs(perf_dir, exist_ok=True)
        out = os.path.join(perf_dir, f"perf_{engine}.data")
        hb.log(f"{engine}: CREATE INDEX, one process, under perf record -g -> {out}")
        perf = subprocess.Popen(["perf", "record", "-g", "-o", out, "-p", str(pid)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        t, phases = timed_build(cur, pid, sql)
        perf.send_signal(signal.SIGINT)
        perf.wait()
        res["perf"] = (out, t, phases)
        hb.log(f"{engine}: under perf {t:.1f} s, phases "
               + ", ".join(f"{p} {s:.1f} s" for p, s in phases))
        cur.execute("DROP INDEX items_ivf")

    cur.execute("ALTER TABLE items SET (parallel_workers = 2)")
    cur.execute("SET max_parallel_maintenance_workers = 2")
    res["parallel_size"] = build("parallel", "2 parallel workers")

    cur.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    cur.execute("SELECT pg_prewarm('items'), pg_prewarm('items_ivf')")
    hb.create_vector_table(cur, "queries", "int", DIM)
    text = "".join(f"{j}\t{lit}\n" for j, lit in enumerate(hb.vector_literals(queries)))
    cur.copy_expert("COPY queries (id, embedding) FROM STDIN", io.StringIO(text))
    cur.execute("ANALYZE queries")
    cur.execute("EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY embedding <-> "
                "(SELECT embedding FROM queries WHERE id = 0) LIMIT 10")
    res["plan_uses_index"] = any("items_ivf" in r[0] for r in cur.fetchall())
    cur.execute(hb.SERVER_LOOP_SQL)
    hb.log(f"{engine}: server-side sweep, probes {probes} (load {load()})")
    res["load"]["sweep"] = [load()]
    res["sweep"] = hb.server_sweep(cur, len(queries), probes, 1, runs,
                                   setting="ivfflat.probes")
    res["load"]["sweep"].append(load())

    def one_pass(p):
        cur.execute(f"SET ivfflat.probes = {int(p)}")
        cur.execute("SELECT sum(us) FROM bench_knn_loop()")
        return cur.fetchone()[0] / 1e6

    res["pass"] = one_pass
    res["conn"] = conn
    return res


def build_rounds(results, rounds):
    """The builds again, --build-rounds times: in each round every engine builds in
    one process, pgvector first, then every engine with 2 workers, each build after a
    DROP of the index it queried (its connection, the same settings); so each
    engine's builds are back to back with pgvector's, not minutes apart. Returns
    {engine: {"serial": [s, ...], "parallel": [s, ...]}}; the last index stays."""
    order = sorted(results, key=lambda r: r["engine"] != "pgvector")
    times = {r["engine"]: {"serial": [], "parallel": []} for r in results}
    for i in range(rounds):
        for workers, kind in ((0, "serial"), (2, "parallel")):
            for r in order:
                cur = r["conn"].cursor()
                cur.execute("DROP INDEX IF EXISTS items_ivf")
                cur.execute(f"SET max_parallel_maintenance_workers = {workers}")
                t0 = time.perf_counter()
                cur.execute(r["sql"])
                t = time.perf_counter() - t0
                times[r["engine"]][kind].append(t)
                hb.log(f"build round {i + 1}, {kind}: {r['engine']} {t:.1f} s (load {load()})")
    return times


def check_truth(base, queries, truth, n=20):
    """The first n rows of truth against a float64 numpy brute force (exact for
    integral vectors); returns how many of the n top-10 lists agree as sets."""
    b = base.astype(np.float64)
    norms = np.einsum("ij,ij->i", b, b)
    agree = 0
    for i in range(min(n, len(queries))):
        q = queries[i].astype(np.float64)
        d = norms - 2.0 * (b @ q)
        top = np.argpartition(d, K)[:K]
        agree += set(top.tolist()) == set(int(v) for v in truth[i][:K])
    return agree


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--lists", type=int, default=1000)
    ap.add_argument("--probes", default="1,2,4,8,16,32")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--runs", type=int, default=2, help="timed sweep passes per probes value")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating passes per engine and probes value against pgvector")
    ap.add_argument("--build-rounds", type=int, default=3,
                    help="rounds of alternating builds (every engine, serial then 2 workers) "
                         "after the sweeps; 0: none")
    ap.add_argument("--perf", metavar="DIR", help="also profile a serial build with perf")
    ap.add_argument("--perf-engines", default="vectorann_rabitq,vectorann_pq")
    ap.add_argument("--out")
    args = ap.parse_args()
    probes = [int(v) for v in args.probes.split(",") if v.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine {e!r}; choose from {', '.join(ENGINES)}")
    out_path = args.out or os.path.join(hb.HERE, "out", f"ivfflat_scale_{args.rows}.md")

    started = time.strftime("%Y-%m-%d %H:%M")
    hb.log(f"{args.rows} x {DIM}: generating (load {load()})")
    base, queries = make_data(args.rows, args.queries)
    hb.log("ground truth")
    truth = hb.ground_truth(base, queries)
    agree = check_truth(base, queries, truth)
    hb.log(f"ground truth: {agree} of {min(20, len(queries))} checked lists agree with numpy")
    prepare_databases(engines, base)
    del base

    info = hb.machine_info()
    info["perf_engines"] = [e for e in args.perf_engines.split(",") if e]
    results = []
    for engine in engines:
        results.append(bench_engine(engine, queries, args.lists, probes, args.runs,
                                    args.perf, info))
        for p, found, qps, p99 in results[-1]["sweep"]:
            hb.log(f"{engine}: probes {p}: recall@10 {hb.recall_at_k(found, truth):.4f}, "
                   f"{qps:.0f} QPS, p99 {p99:.2f} ms")
    by = {r["engine"]: r for r in results}

    inter = {}
    if "pgvector" in by:
        for r in results:
            if r["engine"] == "pgvector":
                continue
            hb.log(f"alternating: {r['engine']} and pgvector, {args.rounds} passes each "
                   f"(load {load()})")
            inter[r["engine"]] = hb.interleaved_pair(probes, r["pass"], by["pgvector"]["pass"],
                                                     args.rounds)
            for p, ta, tb in inter[r["engine"]]:
                hb.log(f"  probes {p}: {r['engine']} {[round(t * 1000) for t in ta]} ms, "
                       f"pgvector {[round(t * 1000) for t in tb]} ms")
    rebuilt = build_rounds(results, args.build_rounds) if args.build_rounds > 0 else None
    finished = time.strftime("%H:%M")

    # ---- report ----
    raw = args.rows * DIM * 4
    pg = by.get("pgvector")
    lines = [f"# IVFFlat at {args.rows:,} x {DIM} (issue 15)", "",
             f"- run {started}-{finished}; {info.get('cpu')}, {info.get('cores')} cores, "
             f"{info.get('ram_gib', 0):.0f} GiB; " + ", ".join(
                 f"{r['engine']} {r['version']}" for r in results),
             f"- data: scale.py's make_data, {args.rows:,} rows, {len(queries)} queries, L2, "
             f"k = {K}; lists = {args.lists}; ground truth exact ({agree} of "
             f"{min(20, len(queries))} lists checked against numpy agree)",
             "- QPS: server-side PL/pgSQL loop, best of "
             f"{args.runs} passes after one warm-up pass; ratios from alternating passes "
             f"({args.rounds} each, median pass)", "",
             "Builds (seconds from the client; phases from pg_stat_progress_create_index, "
             "the last phase includes WAL-logging and commit):", "",
             "| engine | serial s | × pgvector | parallel (2 workers) s | × pgvector | index MB "
             "| × raw | serial phases (s) | load 1-min (serial, parallel) |",
             "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in results:
        rs = f"{r['serial_s'] / pg['serial_s']:.2f}" if pg else "-"
        rp = f"{r['parallel_s'] / pg['parallel_s']:.2f}" if pg else "-"
        ph = ", ".join(f"{p} {s:.1f}" for p, s in r["serial_phases"])
        ld = f"{'→'.join(r['load']['serial'])}, {'→'.join(r['load']['parallel'])}"
        lines.append(f"| {r['engine']} | {r['serial_s']:.1f} | {rs} | {r['parallel_s']:.1f} | "
                     f"{rp} | {r['size'] / MIB:.1f} | {r['size'] / raw:.2f} | {ph} | {ld} |")
    lines.append("")
    lines.append("Parallel builds' phases: " + "; ".join(
        f"{r['engine']}: " + ", ".join(f"{p} {s:.1f}" for p, s in r["parallel_phases"])
        for r in results))
    for r in results:
        if "perf" in r:
            out, t, phases = r["perf"]
            lines.append(f"- {r['engine']} under perf ({out}): {t:.1f} s, "
                         + ", ".join(f"{p} {s:.1f}" for p, s in phases))
    lines += ["", "recall@10 / QPS (server-side sweep, not alternated):", "",
              "| engine | " + " | ".join(f"probes {p}" for p in probes) + " | load 1-min |",
              "|---|" + "---:|" * len(probes) + "---|"]
    for r in results:
        cells = [f"{hb.recall_at_k(found, truth):.4f} / {qps:.0f}"
                 for p, found, qps, p99 in r["sweep"]]
        lines.append(f"| {r['engine']} | " + " | ".join(cells)
                     + f" | {'→'.join(r['load']['sweep'])} |")
    if inter:
        lines += ["", "QPS ratio to pgvector, median alternating passes (range of per-pass "
                  "ratios):", "",
                  "| engine | " + " | ".join(f"probes {p}" for p in probes) + " |",
                  "|---|" + "---:|" * len(probes)]
        for engine, timings in inter.items():
            cells = []
            for p, ta, tb in timings:
                per = [tb[i] / ta[i] for i in range(len(ta))]
                cells.append(f"{statistics.median(tb) / statistics.median(ta):.2f} "
                             f"({min(per):.2f}-{max(per):.2f})")
            lines.append(f"| {engine} | " + " | ".join(cells) + " |")
    lines.append("")
    if rebuilt:
        med = {e: {k: statistics.median(v) for k, v in t.items()} for e, t in rebuilt.items()}
        lines += [f"Alternating builds ({args.build_rounds} rounds; in each, every engine in "
                  "one process, pgvector first, then with 2 workers; seconds; ratios to "
                  "pgvector: of the medians, and per round):", "",
                  "| engine | one process | × pgvector (per round) | 2 workers "
                  "| × pgvector (per round) |", "|---|---|---|---|---|"]
        for e, t in rebuilt.items():
            cells = []
            for kind in ("serial", "parallel"):
                cells.append(", ".join(f"{x:.1f}" for x in t[kind]))
                if "pgvector" in rebuilt:
                    per = [a / b for a, b in zip(t[kind], rebuilt["pgvector"][kind])]
                    cells.append(f"{med[e][kind] / med['pgvector'][kind]:.2f} "
                                 f"({min(per):.2f}-{max(per):.2f})")
                else:
                    cells.append("-")
            lines.append(f"| {e} | " + " | ".join(cells) + " |")
        lines.append("")
    if pg:
        for r in results:
            if r["engine"] in ("vectorann_rabitq", "vectorann_pq"):
                for kind in ("serial", "parallel"):
                    if rebuilt:
                        x = med[r["engine"]][kind] / med["pgvector"][kind]
                        how = f"median of {args.build_rounds} alternating builds"
                    else:
                        x = r[f"{kind}_s"] / pg[f"{kind}_s"]
                        how = "one build each"
                    lines.append(f"- target (issue 15: quantized build ≤ 0.5× pgvector's), "
                                 f"{r['engine']}, {kind} ({how}): {x:.2f}× — "
                                 + ("met" if x <= 0.5 else "NOT met"))
    for r in results:
        if not r["plan_uses_index"]:
            lines.append(f"- WARNING: {r['engine']}'s plan does not use the index")
    report = "\n".join(lines) + "\n"
    print(report, end="")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        f.write(report)
    hb.log(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
