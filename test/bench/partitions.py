#!/usr/bin/python3
"""kNN over a partitioned table against one table of the same rows (issue 13).

The synthetic clustered 128-dimension data of scale.py (seeded), ROWS rows
loaded twice: into `single`, one table with one hnsw index, and into `parted`,
hash-partitioned on id into 4 tables, each with its own hnsw index (m = 16,
ef_construction = 64).  QUERIES query vectors from the same distribution.
`SELECT id ... ORDER BY embedding <-> q LIMIT 10` on `parted` is a Merge
Append over four index scans, so one backend alternates between four indexes
in every query.

Timing is server-side: a PL/pgSQL loop runs every query once and sums
clock_timestamp() differences (as hnsw_bench.py does).  A pass times `single`
then `parted` on a fresh connection; passes repeat PASSES times.  With --lib
LABEL=PATH (two or more), each pass goes through every library in turn: the
extension's shared library is replaced by PATH (copied beside it, then
renamed over it, never overwritten in place) and the connection reopened, so
a before/after comparison alternates on the same cluster and data.  Reports,
per library: median ms per query for each table, the ratio parted / single
per pass and the median ratio.

With --pgvector, the same rows and indexes are also loaded into a database of
its own (bench_pgvector_parts, extension `vector`) and every pass times
pgvector right after vectorann, so its ratio parted / single is measured in the
same minutes.  Recall@10 of both tables (exact top 10 by brute force) is
reported once per engine: four searches at ef_search 40 find more than one, so
the time ratio compares unequal work unless recall is read beside it.

Run through test/bench/partitions.sh, which starts a throwaway cluster:

    bash test/bench/partitions.sh
    bash test/bench/partitions.sh --rows 50000 --lib old=/tmp/old.so --lib new=/tmp/new.so
"""

import argparse
import io
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402
import scale  # noqa: E402

LOOP_SQL = """
CREATE OR REPLACE FUNCTION knn_{t}() RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    q record;
    t0 timestamptz;
    total float8 := 0;
    ids bigint[];
BEGIN
    FOR q IN SELECT b.id, b.embedding FROM queries b ORDER BY b.id LOOP
        t0 := clock_timestamp();
        ids := ARRAY(SELECT i.id FROM {t} i ORDER BY i.embedding <-> q.embedding LIMIT 10);
        total := total + extract(epoch FROM clock_timestamp() - t0);
    END LOOP;
    RETURN total;
END $$
"""


def connect(dbname=None):
    import psycopg2
    conn = psycopg2.connect(dbname=dbname) if dbname else psycopg2.connect("")
    conn.autocommit = True
    return conn


def load(cur, base, queries, extension="vectorann"):
    cur.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    hb.create_vector_table(cur, "single", "bigint", scale.DIM)
    cur.execute("DROP TABLE IF EXISTS parted")
    cur.execute(f"CREATE TABLE parted (id bigint PRIMARY KEY, embedding vector({scale.DIM})) "
                "PARTITION BY HASH (id)")
    for p in range(4):
        cur.execute(f"CREATE TABLE parted_{p} PARTITION OF parted "
                    f"FOR VALUES WITH (MODULUS 4, REMAINDER {p})")
        cur.execute(f"ALTER TABLE parted_{p} ALTER COLUMN embedding SET STORAGE PLAIN")
    hb.create_vector_table(cur, "queries", "int", scale.DIM)
    hb.log(f"loading {len(base)} rows twice")
    for s in range(0, len(base), 50000):
        data = "".join(f"{s + j}\t{v}\n" for j, v in enumerate(hb.vector_literals(base[s:s + 50000])))
        cur.copy_expert("COPY single FROM STDIN", io.StringIO(data))
        cur.copy_expert("COPY parted FROM STDIN", io.StringIO(data))
    data = "".join(f"{j}\t{v}\n" for j, v in enumerate(hb.vector_literals(queries)))
    cur.copy_expert("COPY queries FROM STDIN", io.StringIO(data))
    cur.execute("SET maintenance_work_mem = '2GB'")
    hb.log("building the indexes")
    for t in ("single", "parted"):
        cur.execute(f"CREATE INDEX ON {t} USING hnsw (embedding vector_l2_ops) "
                    f"WITH (m = {hb.M}, ef_construction = {hb.EF_CONSTRUCTION})")
        cur.execute(f"ANALYZE {t}")
        cur.execute(LOOP_SQL.format(t=t))
    cur.execute("VACUUM ANALYZE queries")


def one_pass(dbname=None):
    """ms per query on single and on parted, on a fresh connection (warmed)."""
    conn = connect(dbname)
    cur = conn.cursor()
    cur.execute("SET hnsw.ef_search = 40")
    cur.execute("SET jit = off")
    out = {}
    for t in ("single", "parted"):
        cur.execute(f"SELECT knn_{t}()")      # warm the caches and the maps
        cur.execute(f"SELECT knn_{t}()")
        out[t] = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM queries")
    nq = cur.fetchone()[0]
    conn.close()
    return {t: s * 1000.0 / nq for t, s in out.items()}


def recall(dbname, truth):
    """Recall@10 of single and of parted at ef_search 40 against the exact truth."""
    conn = connect(dbname)
    cur = conn.cursor()
    cur.execute("SET hnsw.ef_search = 40")
    out = {}
    for t in ("single", "parted"):
        cur.execute(f"SELECT q.id, ARRAY(SELECT i.id FROM {t} i "
                    f"ORDER BY i.embedding <-> q.embedding LIMIT 10) FROM queries q ORDER BY q.id")
        found = [ids for _, ids in cur.fetchall()]
        out[t] = hb.recall_at_k(found, truth)
    conn.close()
    return out


def pgvector_db():
    """A fresh database for pgvector (its type is also called vector)."""
    conn = connect()
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {PGVECTOR_DB}")
    cur.execute(f"CREATE DATABASE {PGVECTOR_DB}")
    conn.close()
    return PGVECTOR_DB


PGVECTOR_DB = "bench_pgvector_parts"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--lib", action="append", default=[],
                    help="LABEL=PATH of a vectorann.so to alternate with the others")
    ap.add_argument("--pgvector", action="store_true",
                    help="also measure pgvector (extension vector) in a database of its own")
    args = ap.parse_args()
    libs = [tuple(x.split("=", 1)) for x in args.lib] or [("installed", None)]

    base, queries = scale.make_data(args.rows, args.queries)
    conn = connect()
    load(conn.cursor(), base, queries)
    conn.close()
    engines = [(label, path, None) for label, path in libs]
    if args.pgvector:
        db = pgvector_db()
        conn = connect(db)
        load(conn.cursor(), base, queries, "vector")
        conn.close()
        engines.append(("pgvector", None, db))
    truth = hb.ground_truth(base, queries)
    recalls = {label: recall(db, truth) for label, _, db in engines}

    res = {label: [] for label, _, _ in engines}
    for p in range(args.passes):
        for label, path, db in engines:
            if path:
                hb.install_lib(path)
            r = one_pass(db)
            res[label].append(r)
            hb.log(f"pass {p + 1} {label}: single {r['single']:.3f} ms, "
                   f"parted {r['parted']:.3f} ms, ratio {r['parted'] / r['single']:.2f}")

    print(f"\n{args.rows} rows x {scale.DIM}, 4 hash partitions, {args.queries} queries, "
          f"ef_search 40, LIMIT 10, {args.passes} alternating passes\n")
    print("| build | single ms/query (median) | parted ms/query (median) | ratio per pass "
          "| median ratio | recall@10 single | recall@10 parted |")
    print("|---|---|---|---|---|---|---|")
    for label, _, _ in engines:
        rs = res[label]
        ratios = [r["parted"] / r["single"] for r in rs]
        print(f"| {label} | {statistics.median(r['single'] for r in rs):.3f} | "
              f"{statistics.median(r['parted'] for r in rs):.3f} | "
              f"{', '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.2f} | "
              f"{recalls[label]['single']:.3f} | {recalls[label]['parted']:.3f} |")


if __name__ == "__main__":
    main()
