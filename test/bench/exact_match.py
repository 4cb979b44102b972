"""Exact-match queries on hnsw: how often a row is not found by a query for its own vector.

Each row of a seeded table is looked up by its own vector (ORDER BY v <-> that vector
LIMIT --limit at hnsw.ef_search = --ef) and counted as missed when it is not among the
rows returned. The same rows go to vectorann (database exact_vectorann) and, when the
extension `vector` is installed, pgvector (exact_pgvector), each index built in one
process ("serial"), with 2 parallel workers ("parallel"), and filled by inserts into an
empty index ("insert"), L2, m = 16, ef_construction = 64; and to hnswlib (same m and
ef_construction, single-threaded) when it imports.

Data (--data): "varnorm" is test/t/020_hnsw_quantized.pl's (norms 0.1 to 10: row i is
(random() - 0.3) * (0.1 + (i % 7) * 1.6) per dimension), "uniform" random() per
dimension. Runs against the cluster in PGHOST/PGPORT, as a superuser.

    /usr/bin/python3 test/bench/exact_match.py --rows 10000              # 020's data
    /usr/bin/python3 test/bench/exact_match.py --data uniform --dim 16 --ef 10 --limit 1
"""
import argparse

import psycopg2

SCALE = {"varnorm": "(random() - 0.3) * (0.1 + (i % 7) * 1.6)", "uniform": "random()"}


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    return conn


def database(name, extension):
    """A fresh database with extension; None when the extension is not installed."""
    cur = connect("postgres").cursor()
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", (extension,))
    if cur.fetchone() is None:
        return None
    cur.execute(f"DROP DATABASE IF EXISTS {name}")
    cur.execute(f"CREATE DATABASE {name}")
    cur = connect(name).cursor()
    cur.execute(f"CREATE EXTENSION {extension}")
    return cur


def missed(cur, ef, limit):
    """(rows, rows not among the first `limit` rows of the query for their own vector)."""
    cur.execute("SET enable_seqscan = off")
    cur.execute(f"SET hnsw.ef_search = {ef}")
    cur.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
            SELECT FROM (SELECT j.id FROM items j ORDER BY j.embedding <-> i.embedding
                         LIMIT {limit}) r WHERE r.id = i.id))
        FROM items i""")
    return cur.fetchone()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10000)
    ap.add_argument("--dim", type=int, default=48)
    ap.add_argument("--data", choices=sorted(SCALE), default="varnorm")
    ap.add_argument("--seed", type=float, default=0.1, help="setseed() of the data")
    ap.add_argument("--ef", type=int, default=100, help="hnsw.ef_search")
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--modes", default="serial,parallel,insert")
    args = ap.parse_args()

    rows = None
    print(f"{args.rows} rows of {args.dim} dimensions ({args.data}), ef_search {args.ef}, "
          f"missed: not among the first {args.limit}")
    for engine, extension in (("vectorann", "vectorann"), ("pgvector", "vector")):
        cur = database("exact_" + engine, extension)
        if cur is None:
            print(f"{engine:9}  (extension {extension} not installed)")
            continue
        cur.execute(f"CREATE TABLE items (id int PRIMARY KEY, embedding vector({args.dim}))")
        if rows is None:
            cur.execute(f"SELECT setseed({args.seed})")
            cur.execute(f"""INSERT INTO items SELECT i, ARRAY(SELECT ({SCALE[args.data]})::real
                            FROM generate_series(1, {args.dim}) WHERE i > 0)::vector
                            FROM generate_series(1, {args.rows}) i""")
            cur.execute("SELECT id, embedding::text FROM items ORDER BY id")
            rows = cur.fetchall()
        else:
            cur.executemany("INSERT INTO items VALUES (%s, %s)", rows)
        cur.execute("VACUUM ANALYZE items")
        for mode in args.modes.split(","):
            cur.execute("DROP INDEX IF EXISTS items_idx")
            create = "CREATE INDEX items_idx ON items USING hnsw (embedding vector_l2_ops)"
            if mode == "insert":
                cur.execute("TRUNCATE items")
                cur.execute(create)
                cur.executemany("INSERT INTO items VALUES (%s, %s)", rows)
            else:
                workers = 2 if mode == "parallel" else 0
                cur.execute(f"SET max_parallel_maintenance_workers = {workers}")
                cur.execute(f"ALTER TABLE items SET (parallel_workers = {workers})")
                cur.execute(create)
            n, miss = missed(cur, args.ef, args.limit)
            print(f"{engine:9}  {mode:8}  {miss:6} of {n} missed ({100.0 * miss / n:.2f} %)",
                  flush=True)
    try:
        import hnswlib
        import numpy as np
    except ImportError:
        print("hnswlib    (not installed)")
        return
    data = np.array([[float(x) for x in t.strip("[]").split(",")] for _, t in rows],
                    dtype=np.float32)
    index = hnswlib.Index(space="l2", dim=args.dim)
    index.init_index(max_elements=len(data), M=16, ef_construction=64, random_seed=100)
    index.set_num_threads(1)
    index.add_items(data, np.arange(len(data)))
    index.set_ef(max(args.ef, args.limit))
    labels, _ = index.knn_query(data, k=args.limit)
    miss = sum(1 for i in range(len(data)) if i not in labels[i])
    print(f"{'hnswlib':9}  {'serial':8}  {miss:6} of {len(data)} missed "
          f"({100.0 * miss / len(data):.2f} %)")


if __name__ == "__main__":
    main()
