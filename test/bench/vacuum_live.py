#!/usr/bin/python3
"""VACUUM of an hnsw index while the table keeps taking inserts and queries.

For each engine (vectorann: database vacuum_vectorann, CREATE EXTENSION vectorann;
pgvector, when the extension `vector` is installed in the same PostgreSQL: database
vacuum_pgvector), the setup of the "live tables" report:

1. `t (id serial, v vector(128))`, --rows rows (default 100,000) of random vectors
   (components uniform in [0, 1), numpy seed 1; autovacuum off for t), `CREATE
   INDEX ON t USING hnsw (v vector_l2_ops)` with defaults, then
   `DELETE FROM t WHERE id % 2 = 0`.
2. Baseline: for --baseline seconds (default 10), one connection inserts single rows
   (autocommit, one INSERT per statement) in a loop while another runs
   `ORDER BY v <-> q LIMIT 10` queries in a loop: rows per second and the longest
   single statement of each.
3. The same two loops run while a third connection runs `VACUUM t`: how long VACUUM
   took, the inserts and queries completed meanwhile, their rates, the longest single
   insert and query.
4. recall@10 at hnsw.ef_search 40 after VACUUM, 100 random queries, against the
   exact answer (a sequential scan).

Prints a table and writes it to test/bench/out/vacuum_live.md. Absolute rates vary by
tens of percent from minute to minute on a shared machine: compare the ratio of the
rate during VACUUM to the baseline, and the longest waits.

PostgreSQL is reached through libpq's environment (PGHOST etc.); run it through
test/bench/vacuum_live.sh, which builds both extensions and starts a throwaway
cluster.
"""

import argparse
import datetime
import io
import os
import threading
import time

import numpy as np
import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = {"vectorann": "vectorann", "pgvector": "vector"}  # label -> extension
DIM = 128


def vec_text(v):
    return "[" + ",".join("%.6g" % x for x in v) + "]"


def connect(db, autocommit=True):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = autocommit
    return conn


def setup(engine, rows, rng):
    db = "vacuum_" + engine
    admin = connect("postgres")
    cur = admin.cursor()
    cur.execute("DROP DATABASE IF EXISTS " + db)
    cur.execute("CREATE DATABASE " + db)
    admin.close()
    conn = connect(db)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION " + ENGINES[engine])
    # autovacuum off for t: the VACUUM measured is the one this script runs
    cur.execute("CREATE TABLE t (id serial, v vector(%d)) WITH (autovacuum_enabled = off)" % DIM)
    cur.execute("ALTER TABLE t ALTER COLUMN v SET STORAGE PLAIN")
    data = rng.random((rows, DIM), dtype=np.float32)
    buf = io.StringIO()
    for v in data:
        buf.write(vec_text(v) + "\n")
    buf.seek(0)
    cur.copy_expert("COPY t (v) FROM STDIN", buf)
    t0 = time.monotonic()
    cur.execute("CREATE INDEX t_v_idx ON t USING hnsw (v vector_l2_ops)")
    build = time.monotonic() - t0
    cur.execute("DELETE FROM t WHERE id % 2 = 0")
    cur.execute("ANALYZE t")
    cur.execute("CHECKPOINT")
    conn.close()
    return db, build


class Loop(threading.Thread):
    """Run one statement over and over until stopped; count and time them."""

    def __init__(self, db, kind, seed):
        super().__init__(daemon=True)
        self.db = db
        self.kind = kind
        self.rng = np.random.default_rng(seed)
        self.stop = threading.Event()
        self.count = 0
        self.longest = 0.0
        self.elapsed = 0.0
        self.error = None

    def run(self):
        try:
            conn = connect(self.db)
            cur = conn.cursor()
            cur.execute("SET enable_seqscan = off")
            start = time.monotonic()
            while not self.stop.is_set():
                v = vec_text(self.rng.random(DIM, dtype=np.float32))
                t0 = time.monotonic()
                if self.kind == "insert":
                    cur.execute("INSERT INTO t (v) VALUES (%s)", (v,))
                else:
                    cur.execute("SELECT id FROM t ORDER BY v <-> %s LIMIT 10", (v,))
                    cur.fetchall()
                dt = time.monotonic() - t0
                self.count += 1
                self.longest = max(self.longest, dt)
            self.elapsed = time.monotonic() - start
            conn.close()
        except Exception as e:  # reported, not swallowed
            self.error = e


def run_loops(db, seconds=None, during=None, seed=0):
    ins = Loop(db, "insert", seed + 1)
    qry = Loop(db, "query", seed + 2)
    ins.start()
    qry.start()
    t0 = time.monotonic()
    if during is not None:
        during()
    else:
        time.sleep(seconds)
    took = time.monotonic() - t0
    ins.stop.set()
    qry.stop.set()
    ins.join()
    qry.join()
    for lp in (ins, qry):
        if lp.error is not None:
            raise lp.error
    return took, ins, qry


def recall(db, nq, rng):
    conn = connect(db)
    cur = conn.cursor()
    hits = 0
    for _ in range(nq):
        q = vec_text(rng.random(DIM, dtype=np.float32))
        cur.execute("SET enable_seqscan = off")
        cur.execute("SET hnsw.ef_search = 40")
        cur.execute("SELECT id FROM t ORDER BY v <-> %s LIMIT 10", (q,))
        got = {r[0] for r in cur.fetchall()}
        cur.execute("SET enable_seqscan = on")
        cur.execute("SET enable_indexscan = off")
        cur.execute("SELECT id FROM t ORDER BY v <-> %s LIMIT 10", (q,))
        exact = {r[0] for r in cur.fetchall()}
        cur.execute("RESET enable_indexscan")
        hits += len(got & exact)
    conn.close()
    return hits / (10.0 * nq)


def vacuum_action(db, out):
    def act():
        conn = connect(db)
        t0 = time.monotonic()
        conn.cursor().execute("VACUUM t")
        out["vacuum"] = time.monotonic() - t0
        conn.close()
    return act


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="vectorann,pgvector")
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--baseline", type=float, default=10.0)
    ap.add_argument("--out", default=os.path.join(HERE, "out", "vacuum_live.md"))
    args = ap.parse_args()

    engines = [e for e in args.engines.split(",") if e]
    lines = []
    for engine in engines:
        rng = np.random.default_rng(1)
        db, build = setup(engine, args.rows, rng)
        _, bins, bqry = run_loops(db, seconds=args.baseline, seed=10)
        out = {}
        took, vins, vqry = run_loops(db, during=vacuum_action(db, out), seed=20)
        rec = recall(db, 100, np.random.default_rng(3))
        r = {
            "engine": engine, "build": build,
            "base_ins": bins.count / bins.elapsed, "base_ins_max": bins.longest,
            "base_q": bqry.count / bqry.elapsed, "base_q_max": bqry.longest,
            "vacuum": out["vacuum"], "ins": vins.count, "ins_rate": vins.count / took,
            "ins_max": vins.longest, "q": vqry.count, "q_rate": vqry.count / took,
            "q_max": vqry.longest, "recall": rec,
        }
        print("%(engine)s: build %(build).1f s; baseline %(base_ins).0f inserts/s (longest "
              "%(base_ins_max).3f s), %(base_q).0f queries/s (longest %(base_q_max).3f s); "
              "VACUUM %(vacuum).1f s, meanwhile %(ins)d inserts = %(ins_rate).0f/s (longest "
              "%(ins_max).3f s), %(q)d queries = %(q_rate).0f/s (longest %(q_max).3f s); "
              "recall@10 after %(recall).3f" % r, flush=True)
        lines.append(r)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("# VACUUM while inserting and querying (%s, %d rows x %d, half deleted)\n\n"
                % (datetime.date.today().isoformat(), args.rows, DIM))
        f.write("| engine | VACUUM s | inserts/s before | during (ratio) | longest insert s "
                "| queries/s before | during (ratio) | longest query s | recall@10 after |\n")
        f.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for r in lines:
            f.write("| %s | %.1f | %.0f | %.0f (%.2f) | %.3f | %.0f | %.0f (%.2f) | %.3f | %.3f |\n"
                    % (r["engine"], r["vacuum"], r["base_ins"], r["ins_rate"],
                       r["ins_rate"] / r["base_ins"], r["ins_max"], r["base_q"], r["q_rate"],
                       r["q_rate"] / r["base_q"], r["q_max"], r["recall"]))
    print(open(args.out).read())


if __name__ == "__main__":
    main()
