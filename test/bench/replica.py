#!/usr/bin/python3
"""Queries per second from a primary and from its streaming hot standby (issue 16).

Run through test/bench/replica.sh, which starts the primary, calls
`replica.py load`, makes the standby (pg_basebackup -R) and starts it, then
calls `replica.py measure --standby-port PORT`.

load: the scale run's clustered 128-dimension data (scale.make_data, seeded),
ROWS rows and QUERIES queries, an hnsw index (m = 16, ef_construction = 64)
and a PL/pgSQL function that runs every query once and returns the seconds
spent (server-side timing, as hnsw_bench.py).
measure: waits until the standby has replayed everything, checks that both
give the same answers, then times passes of the query loop: the primary
alone, the standby alone, and both at once (one client each, in two threads),
alternating; reports the median queries per second of each.
"""

import argparse
import io
import os
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402
import scale  # noqa: E402

LOOP_SQL = """
CREATE OR REPLACE FUNCTION knn_loop(ef int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    q record;
    t0 timestamptz;
    total float8 := 0;
    ids bigint[];
BEGIN
    PERFORM set_config('hnsw.ef_search', ef::text, true);
    FOR q IN SELECT b.id, b.embedding FROM queries b ORDER BY b.id LOOP
        t0 := clock_timestamp();
        ids := ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding LIMIT 10);
        total := total + extract(epoch FROM clock_timestamp() - t0);
    END LOOP;
    RETURN total;
END $$
"""

ANSWERS = """SELECT q.id, ARRAY(SELECT i.id FROM items i ORDER BY i.embedding <-> q.embedding
             LIMIT 10) FROM queries q ORDER BY q.id"""


def connect(port=None):
    import psycopg2
    conn = psycopg2.connect(port=port) if port else psycopg2.connect("")
    conn.autocommit = True
    return conn


def load(args):
    base, queries = scale.make_data(args.rows, args.queries)
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vectorann")
    hb.create_vector_table(cur, "items", "bigint", scale.DIM)
    hb.create_vector_table(cur, "queries", "int", scale.DIM)
    hb.log(f"loading {args.rows} rows")
    for s in range(0, len(base), 50000):
        data = "".join(f"{s + j}\t{v}\n" for j, v in enumerate(hb.vector_literals(base[s:s + 50000])))
        cur.copy_expert("COPY items FROM STDIN", io.StringIO(data))
    data = "".join(f"{j}\t{v}\n" for j, v in enumerate(hb.vector_literals(queries)))
    cur.copy_expert("COPY queries FROM STDIN", io.StringIO(data))
    cur.execute("SET maintenance_work_mem = '4GB'")
    hb.log("building the index")
    cur.execute(f"CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION})")
    cur.execute("VACUUM ANALYZE items")
    cur.execute("VACUUM ANALYZE queries")
    cur.execute(LOOP_SQL)
    conn.close()


def timed_loop(port, ef, out, key):
    conn = connect(port)
    cur = conn.cursor()
    cur.execute("SELECT knn_loop(%s)", (ef,))    # warm
    cur.execute("SELECT knn_loop(%s)", (ef,))
    out[key] = cur.fetchone()[0]
    conn.close()


def measure(args):
    primary = connect()
    cur = primary.cursor()
    cur.execute("SELECT pg_current_wal_lsn()")
    lsn = cur.fetchone()[0]
    standby = connect(args.standby_port)
    scur = standby.cursor()
    for _ in range(600):
        scur.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
        if scur.fetchone()[0]:
            break
        time.sleep(1)
    else:
        sys.exit("the standby did not catch up in 10 minutes")
    cur.execute("SELECT count(*) FROM queries")
    nq = cur.fetchone()[0]
    cur.execute(ANSWERS)
    scur.execute(ANSWERS)
    same = cur.fetchall() == scur.fetchall()
    hb.log(f"standby caught up; same answers as the primary: {same}")
    primary.close()
    standby.close()

    res = {}
    for ef in [int(x) for x in args.ef_search.split(",")]:
        for p in range(args.passes):
            out = {}
            timed_loop(None, ef, out, "primary alone")
            timed_loop(args.standby_port, ef, out, "standby alone")
            threads = [threading.Thread(target=timed_loop, args=(port, ef, out, key))
                       for port, key in ((None, "primary, both at once"),
                                         (args.standby_port, "standby, both at once"))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for key, s in out.items():
                res.setdefault((ef, key), []).append(nq / s)
            hb.log(f"ef_search {ef} pass {p + 1}: " +
                   ", ".join(f"{k} {nq / s:.0f} QPS" for k, s in out.items()))

    print(f"\n{args.rows} rows x {scale.DIM} (clustered), {nq} queries, k = 10, one primary and "
          f"one streaming hot standby on this machine ({os.cpu_count()} cores), server-side "
          f"timing, median of {args.passes} passes; same answers on both: {same}\n")
    print("| ef_search | primary alone | standby alone | primary, both at once | "
          "standby, both at once | both at once, total |")
    print("|---|---|---|---|---|---|")
    for ef in [int(x) for x in args.ef_search.split(",")]:
        m = {k: statistics.median(res[(ef, k)]) for k in
             ("primary alone", "standby alone", "primary, both at once", "standby, both at once")}
        print(f"| {ef} | {m['primary alone']:.0f} | {m['standby alone']:.0f} | "
              f"{m['primary, both at once']:.0f} | {m['standby, both at once']:.0f} | "
              f"{m['primary, both at once'] + m['standby, both at once']:.0f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("phase", choices=("load", "measure"))
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--ef-search", default="40,100")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--standby-port", type=int)
    args = ap.parse_args()
    if args.phase == "load":
        load(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
