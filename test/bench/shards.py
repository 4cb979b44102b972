#!/usr/bin/python3
"""kNN through a coordinator over 2 and 4 postgres_fdw shards against one server (issue 16).

The scale run's synthetic clustered 128-dimension data (scale.make_data,
seeded): ROWS rows in one database with one hnsw index ("one server"), and the
same rows loaded through a coordinator database into a hash-partitioned table
whose partitions are postgres_fdw foreign tables in 2 (then 4) shard
databases, each shard with its own hnsw index (m = 16, ef_construction = 64).
All databases live in the one throwaway cluster that shards.sh starts: the
shards are loopback servers on this machine, searched by separate backends.

For each hnsw.ef_search (40, 100) and each setup, every query runs once per
pass from the client (psycopg2, one round trip per query); passes alternate
between the setups, and the report gives the median latency over all passes,
its ratio to one server's, and recall@10 against the exact answer:
- one server: SELECT id FROM items ORDER BY embedding <-> q LIMIT 10
- coordinator, vectorann_knn: SELECT id FROM vectorann_knn('items', q, 10)
- coordinator, plain SQL: the one-server query on the partitioned table (a Merge
  Append of foreign scans; the shards search at their default ef_search, 40,
  since postgres_fdw passes no settings)
- one shard alone: the one-server query sent straight to the first shard's
  database (a search of ROWS/n rows, no coordinator), so that a sharded
  setup's ratio splits into the shards' own search and the coordinator's part
Bytes sent by the shards per query: the coordinator reaches the shards over
TCP on 127.0.0.1, and the growth of bytes_sent (ss -ti) of the server side of
those connections, divided by the number of queries (TCP payload: the
protocol messages, without TCP/IP headers).
"""

import argparse
import io
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnsw_bench as hb  # noqa: E402
import scale  # noqa: E402


def connect(dbname=None):
    import psycopg2
    conn = psycopg2.connect(dbname=dbname) if dbname else psycopg2.connect("")
    conn.autocommit = True
    return conn


def fresh_db(name):
    conn = connect()
    cur = conn.cursor()
    cur.execute(f"DROP DATABASE IF EXISTS {name}")
    cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    return connect(name)


def copy_rows(cur, table, base, first_id=0):
    for s in range(0, len(base), 50000):
        data = "".join(f"{first_id + s + j}\t{v}\n"
                       for j, v in enumerate(hb.vector_literals(base[s:s + 50000])))
        cur.copy_expert(f"COPY {table} FROM STDIN", io.StringIO(data))


def build_index(cur, m, efc):
    cur.execute("SET maintenance_work_mem = '4GB'")
    cur.execute(f"CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) "
                f"WITH (m = {m}, ef_construction = {efc})")
    cur.execute("ANALYZE items")


def setup_single(base, args):
    conn = fresh_db("shards_single")
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION vectorann")
    hb.create_vector_table(cur, "items", "bigint", scale.DIM)
    hb.log(f"one server: loading {len(base)} rows")
    copy_rows(cur, "items", base)
    t0 = time.perf_counter()
    build_index(cur, args.m, args.ef_construction)
    hb.log(f"one server: index built in {time.perf_counter() - t0:.1f} s")
    conn.close()
    return "shards_single"


def setup_sharded(n, base, args):
    """n shard databases and a coordinator; rows go in through the coordinator."""
    # the shards over TCP on the loopback interface, so that ss can count the
    # bytes they send (the clients of this script use the unix socket)
    host = "127.0.0.1"
    port = os.environ.get("PGPORT", "5432")
    shard_dbs = [f"shards_{n}_{i}" for i in range(n)]
    for db in shard_dbs:
        conn = fresh_db(db)
        cur = conn.cursor()
        cur.execute("CREATE EXTENSION vectorann")
        hb.create_vector_table(cur, "items", "bigint", scale.DIM)
        conn.close()
    coord = f"shards_{n}_coord"
    conn = fresh_db(coord)
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION vectorann")
    cur.execute("CREATE EXTENSION postgres_fdw")
    cur.execute(f"CREATE TABLE items (id bigint, embedding vector({scale.DIM})) "
                "PARTITION BY HASH (id)")
    for i, db in enumerate(shard_dbs):
        cur.execute(f"CREATE SERVER s{i} FOREIGN DATA WRAPPER postgres_fdw OPTIONS "
                    f"(host '{host}', port '{port}', dbname '{db}', extensions 'vectorann', "
                    f"batch_size '1000')")
        cur.execute(f"CREATE USER MAPPING FOR CURRENT_USER SERVER s{i}")
        cur.execute(f"CREATE FOREIGN TABLE items_{i} PARTITION OF items "
                    f"FOR VALUES WITH (MODULUS {n}, REMAINDER {i}) "
                    f"SERVER s{i} OPTIONS (table_name 'items')")
    hb.log(f"{n} shards: loading {len(base)} rows through the coordinator")
    t0 = time.perf_counter()
    copy_rows(cur, "items", base)
    hb.log(f"{n} shards: loaded in {time.perf_counter() - t0:.1f} s")
    conn.close()
    t0 = time.perf_counter()
    for db in shard_dbs:
        c = connect(db)
        build_index(c.cursor(), args.m, args.ef_construction)
        c.close()
    hb.log(f"{n} shards: indexes built one after the other in {time.perf_counter() - t0:.1f} s")
    return coord, shard_dbs


def shard_bytes_sent(port):
    """Bytes the shard backends have sent on their TCP connections to the
    coordinator so far: the sum of bytes_sent (ss -ti) of the established
    sockets whose local port is the server's; None without ss."""
    try:
        out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return sum(int(m) for m in re.findall(r"bytes_sent:(\d+)", out))


QUERY = {
    "one server": "SELECT id FROM items ORDER BY embedding <-> %s::vector LIMIT 10",
    "vectorann_knn": "SELECT id FROM vectorann_knn('items', %s::vector, 10)",
    "plain SQL": "SELECT id FROM items ORDER BY embedding <-> %s::vector LIMIT 10",
    "one shard alone": "SELECT id FROM items ORDER BY embedding <-> %s::vector LIMIT 10",
}


def one_pass(db, form, lits, ef, shard_dbs=None):
    """Per-query latencies (s), answers, and bytes the shards wrote per query."""
    conn = connect(db)
    cur = conn.cursor()
    cur.execute(f"SET hnsw.ef_search = {ef}")
    cur.execute("SET jit = off")
    for q in lits[:20]:                       # warm up the connections and caches
        cur.execute(QUERY[form], (q,))
        cur.fetchall()
    port = os.environ.get("PGPORT", "5432")
    before = shard_bytes_sent(port) if shard_dbs else None
    lat, found = [], []
    for q in lits:
        t0 = time.perf_counter()
        cur.execute(QUERY[form], (q,))
        rows = cur.fetchall()
        lat.append(time.perf_counter() - t0)
        found.append([r[0] for r in rows])
    after = shard_bytes_sent(port) if shard_dbs else None
    conn.close()
    per_query = (after - before) / len(lits) if before is not None and after is not None else None
    return lat, found, per_query


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--shards", default="2,4", help="comma-separated shard counts")
    ap.add_argument("--ef-search", default="40,100")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=64)
    args = ap.parse_args()
    efs = [int(x) for x in args.ef_search.split(",")]
    counts = [int(x) for x in args.shards.split(",")]

    base, queries = scale.make_data(args.rows, args.queries)
    truth = hb.ground_truth(base, queries)
    lits = hb.vector_literals(queries)

    setups = [("one server", setup_single(base, args), None)]
    for n in counts:
        coord, shard_dbs = setup_sharded(n, base, args)
        setups.append((f"{n} shards, vectorann_knn", coord, shard_dbs))
        setups.append((f"{n} shards, plain SQL", coord, shard_dbs))
        setups.append((f"{n} shards, one shard alone", shard_dbs[0], None))

    res = {}
    for ef in efs:
        for p in range(args.passes):
            for label, db, shard_dbs in setups:
                form = label.split(", ")[-1]
                lat, found, nbytes = one_pass(db, form, lits, ef, shard_dbs)
                r = res.setdefault((ef, label), {"lat": [], "found": found, "bytes": []})
                r["lat"].extend(lat)
                if nbytes is not None:
                    r["bytes"].append(nbytes)
                hb.log(f"ef_search {ef} pass {p + 1} {label}: median "
                       f"{statistics.median(lat) * 1000:.3f} ms")

    print(f"\n{args.rows} rows x {scale.DIM} (clustered), {args.queries} queries, k = 10, "
          f"m = {args.m}, ef_construction = {args.ef_construction}, {args.passes} alternating "
          f"passes; shards are databases of one cluster on this machine\n")
    print("| ef_search | setup | recall@10 | median ms/query | ratio to one server | "
          "p99 ms | bytes from shards per query |")
    print("|---|---|---|---|---|---|---|")
    for ef in efs:
        one = statistics.median(res[(ef, "one server")]["lat"])
        for label, _, _ in setups:
            r = res[(ef, label)]
            med = statistics.median(r["lat"])
            p99 = sorted(r["lat"])[int(0.99 * (len(r["lat"]) - 1))]
            nbytes = f"{statistics.median(r['bytes']):.0f}" if r["bytes"] else "-"
            shown_ef = "40 (shard default)" if label.endswith("plain SQL") else str(ef)
            # one shard holds only part of the rows: its recall says nothing
            recall = ("-" if label.endswith("one shard alone")
                      else f"{hb.recall_at_k(r['found'], truth):.4f}")
            print(f"| {shown_ef} | {label} | {recall} | "
                  f"{med * 1000:.3f} | {med / one:.2f} | {p99 * 1000:.3f} | {nbytes} |")


if __name__ == "__main__":
    main()
