#!/usr/bin/python3
"""How soon a long iterative hnsw scan stops after statement_timeout (issue 13).

The setup of test/t/017_hnsw_cancel.pl: 200,000 random 16-dimension rows, an
hnsw index with m = 4, ef_construction = 8, and a query whose filter no row
passes, so that hnsw.iterative_scan = relaxed_order searches again and again
with a doubling candidate list (each search walking the whole graph once the
list is large).  For statement_timeout from 300 ms to 3.3 s, the query runs in
a PL/pgSQL block that catches query_canceled and reports the time from the
start; the lateness is that minus the timeout.  Issue 13 asks for at most
100 ms.  Run through test/bench/cancel.sh (1 MB of shared buffers, as in the
test, so that most pages come from the kernel's cache).
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402

SETTINGS = """
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.max_scan_tuples = 2147483647;
SET work_mem = '1GB';
SET hnsw.scan_mem_multiplier = 1000;
SET enable_seqscan = off;
"""
QUERY = ("SELECT id FROM items WHERE id < 0 ORDER BY v <-> "
         "'[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10")
BLOCK = """
DO $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    PERFORM * FROM (%s) q;
    RAISE WARNING 'completed %%', round(extract(epoch FROM clock_timestamp() - t0) * 1000);
EXCEPTION WHEN query_canceled THEN
    RAISE WARNING 'canceled %%', round(extract(epoch FROM clock_timestamp() - t0) * 1000);
END $$
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import psycopg2
    conn = psycopg2.connect("")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vectorann")
    cur.execute("DROP TABLE IF EXISTS items")
    hb.log("loading 200,000 rows and building the index")
    cur.execute("""
        SELECT setseed(0.17);
        CREATE TABLE items (id int, v vector(16));
        ALTER TABLE items ALTER v SET STORAGE PLAIN;
        INSERT INTO items
        SELECT i, (SELECT array_agg(random())::vector(16) FROM generate_series(1, 16) WHERE i > 0)
        FROM generate_series(1, 200000) i;
        SET maintenance_work_mem = '256MB';
        CREATE INDEX items_v ON items USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
        ANALYZE items;
    """)
    cur.execute(SETTINGS)
    late, completed = [], 0
    for r in range(args.rounds):
        for timeout in range(300, 3301, 500):
            cur.execute(f"SET statement_timeout = {timeout}")
            cur.execute(BLOCK % QUERY)
            kind, ms = conn.notices[-1].split()[-2:]
            ms = int(ms)
            if kind == "completed":
                completed += 1
            else:
                late.append(ms - timeout)
            hb.log(f"round {r + 1}, statement_timeout {timeout} ms: {kind} after {ms} ms")
    cur.execute("SET statement_timeout = 0")
    print(f"\n{len(late)} of {len(late) + completed} queries canceled ({completed} completed "
          f"before their timeout); time from the timeout to the cancel: median "
          f"{statistics.median(late):.0f} ms, max {max(late):.0f} ms (target: at most 100 ms)")


if __name__ == "__main__":
    main()
