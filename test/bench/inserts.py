#!/usr/bin/python3
"""Insert throughput into an hnsw index on 128-dimension data (issue 13).

Two data sets of 128 dimensions, seeded: `clu`, the clustered vectors of
scale.py (1,000 Gaussian centres plus noise), and `rnd`, independent N(0, 1)
vectors; both scaled by 100 and rounded (exact text form).  Each has BASE rows
for the index and 2 x ROWS new rows to insert.

One run: a fresh table of the BASE rows gets an hnsw index (m = 16,
ef_construction = 64, vector_l2_ops), then CLIENTS connections insert ROWS
rows each, one row per statement and transaction (autocommit), client c
taking the new rows c, c + CLIENTS, ...  (--synchronous-commit off: no
WAL flush per row, so the disk's flush time, which varies most on a shared
machine, drops out).  Reported per run: rows per second
(all rows over the wall time from the first insert to the last) and the
backends' CPU time per row (user + system, /proc/<pid>/stat, summed over the
clients' backends): CPU time is the steadier measure on a shared machine.

With --lib LABEL=PATH (two of them, e.g. before and after), each round runs
every data set and client count with each library, the extension's shared
library being replaced by PATH (copied beside it, then renamed over it,
never overwritten in place) before a library's runs, which use new
connections.  The order alternates (A B, B A, A B, ...), so slow minutes on
this shared machine hit both alike; only per-round ratios count.  The
second library's speed-up over the first (rows/s ratio, and CPU time ratio
first / second) is printed per round and as the median.  With --pgvector,
pgvector's hnsw (database `pgv`, same runs) is measured once per round too.

Run through test/bench/inserts.sh, which starts a throwaway cluster:

    bash test/bench/inserts.sh --lib before=/tmp/before.so --lib after=/tmp/after.so
"""

import argparse
import io
import os
import statistics
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402
import scale  # noqa: E402

DIM = scale.DIM
TICKS = os.sysconf("SC_CLK_TCK")


def connect(dbname):
    import psycopg2
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


def make_random(n, seed=11):
    rng = np.random.default_rng(seed)
    return np.round(rng.standard_normal((n, DIM)) * 100).astype(np.float32)


def copy_rows(cur, table, rows):
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, embedding vector({DIM}))")
    cur.execute(f"ALTER TABLE {table} ALTER COLUMN embedding SET STORAGE PLAIN")
    data = "".join(f"{j}\t{v}\n" for j, v in enumerate(hb.vector_literals(rows)))
    cur.copy_expert(f"COPY {table} FROM STDIN", io.StringIO(data))
    cur.execute(f"VACUUM ANALYZE {table}")


def load(dbname, extension, sets):
    conn = connect(dbname)
    cur = conn.cursor()
    cur.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    for name, (base, new) in sets.items():
        copy_rows(cur, f"base_{name}", base)
        copy_rows(cur, f"new_{name}", new)
    conn.close()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3): utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / TICKS


def one_run(dbname, name, clients, rows, sync="on"):
    """(rows/s, CPU ms per row) of clients x rows inserts into a fresh index."""
    conn = connect(dbname)
    cur = conn.cursor()
    cur.execute("DROP TABLE IF EXISTS t")
    cur.execute(f"CREATE TABLE t (id bigint, embedding vector({DIM}))")
    cur.execute("ALTER TABLE t ALTER COLUMN embedding SET STORAGE PLAIN")
    cur.execute(f"INSERT INTO t SELECT id, embedding FROM base_{name}")
    cur.execute("SET maintenance_work_mem = '1GB'")
    cur.execute("SET max_parallel_maintenance_workers = 0")
    cur.execute(f"CREATE INDEX t_idx ON t USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION})")
    cur.execute("VACUUM ANALYZE t")
    conn.close()

    conns = [connect(dbname) for _ in range(clients)]
    pids = []
    for c in conns:
        cur = c.cursor()
        cur.execute(f"SET synchronous_commit = {sync}")
        cur.execute("SELECT pg_backend_pid()")
        pids.append(cur.fetchone()[0])
        cur.execute("PREPARE ins(bigint) AS INSERT INTO t "
                    f"SELECT id + 10000000, embedding FROM new_{name} WHERE id = $1")
    barrier = threading.Barrier(clients + 1)
    errors = []

    def work(c):
        try:
            cur = conns[c].cursor()
            barrier.wait()
            for i in range(rows):
                cur.execute("EXECUTE ins(%s)", (c + i * clients,))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(c,)) for c in range(clients)]
    for th in threads:
        th.start()
    cpu0 = sum(cpu_seconds(p) for p in pids)
    barrier.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    cpu1 = sum(cpu_seconds(p) for p in pids)
    for c in conns:
        c.close()
    if errors:
        raise errors[0]
    n = clients * rows
    return n / wall, (cpu1 - cpu0) * 1000.0 / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=int, default=20000, help="rows in the index before the inserts")
    ap.add_argument("--rows", type=int, default=1000, help="rows each client inserts")
    ap.add_argument("--clients", default="1,2")
    ap.add_argument("--sets", default="clu,rnd")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--lib", action="append", default=[],
                    help="LABEL=PATH of a vectorann.so; two of them alternate")
    ap.add_argument("--pgvector", action="store_true", help="also measure pgvector (database pgv)")
    ap.add_argument("--synchronous-commit", default="on", choices=("on", "off"),
                    help="the clients' synchronous_commit (off: no WAL flush per row)")
    args = ap.parse_args()
    libs = [tuple(x.split("=", 1)) for x in args.lib] or [("installed", None)]
    clients = [int(x) for x in args.clients.split(",")]
    names = args.sets.split(",")

    nnew = args.rows * max(clients)
    sets = {}
    if "clu" in names:
        base, new = scale.make_data(args.base, nnew)
        sets["clu"] = (base, new)
    if "rnd" in names:
        x = make_random(args.base + nnew)
        sets["rnd"] = (x[:args.base], x[args.base:])
    hb.log(f"loading {args.base} + {nnew} rows per data set")
    load("postgres", "vectorann", sets)
    if args.pgvector:
        conn = connect("postgres")
        conn.cursor().execute("DROP DATABASE IF EXISTS pgv")
        conn.cursor().execute("CREATE DATABASE pgv")
        conn.close()
        load("pgv", "vector", sets)

    keys = [(s, c) for s in names for c in clients]
    res = {label: {k: [] for k in keys} for label, _ in libs}
    pgv = {k: [] for k in keys}
    for r in range(args.rounds):
        order = libs if r % 2 == 0 else list(reversed(libs))
        for label, path in order:
            if path:
                hb.install_lib(path)
            for k in keys:
                tps, cpu = one_run("postgres", k[0], k[1], args.rows, args.synchronous_commit)
                res[label][k].append((tps, cpu))
                hb.log(f"round {r + 1} {label} {k[0]} {k[1]} client(s): "
                       f"{tps:.0f} rows/s, {cpu:.3f} ms CPU/row")
        if args.pgvector:
            for k in keys:
                tps, cpu = one_run("pgv", k[0], k[1], args.rows, args.synchronous_commit)
                pgv[k].append((tps, cpu))
                hb.log(f"round {r + 1} pgvector {k[0]} {k[1]} client(s): "
                       f"{tps:.0f} rows/s, {cpu:.3f} ms CPU/row")

    print(f"\n{args.base} rows x {DIM} in the index, then {args.rows} single-row inserts per "
          f"client, m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION}, "
          f"synchronous_commit = {args.synchronous_commit}, {args.rounds} rounds\n")
    print("| data | clients | build | rows/s (median) | CPU ms/row (median) |")
    print("|---|---|---|---|---|")
    for k in keys:
        for label, _ in libs:
            xs = res[label][k]
            print(f"| {k[0]} | {k[1]} | {label} | {statistics.median(x[0] for x in xs):.0f} | "
                  f"{statistics.median(x[1] for x in xs):.3f} |")
        if args.pgvector:
            xs = pgv[k]
            print(f"| {k[0]} | {k[1]} | pgvector | {statistics.median(x[0] for x in xs):.0f} | "
                  f"{statistics.median(x[1] for x in xs):.3f} |")
    if len(libs) == 2:
        a, b = libs[0][0], libs[1][0]
        print(f"\nSpeed-up of {b} over {a}, per round (rows/s {b} / {a}; CPU per row {a} / {b}):\n")
        print("| data | clients | rows/s ratio per round | median | CPU ratio per round | median |")
        print("|---|---|---|---|---|---|")
        for k in keys:
            tr = [y[0] / x[0] for x, y in zip(res[a][k], res[b][k])]
            cr = [x[1] / y[1] for x, y in zip(res[a][k], res[b][k])]
            print(f"| {k[0]} | {k[1]} | {', '.join(f'{v:.2f}' for v in tr)} | "
                  f"{statistics.median(tr):.2f} | {', '.join(f'{v:.2f}' for v in cr)} | "
                  f"{statistics.median(cr):.2f} |")


if __name__ == "__main__":
    main()
