-- hnsw: building an index for every operator class, exact order on small
-- tables, EXPLAIN, NULL and zero vectors, options.
SET client_min_messages = warning;

-- 300 random 8-dimensional vectors and 20 queries, deterministic
SELECT setseed(0.42);
CREATE TABLE hb (id int PRIMARY KEY, v vector(8));
INSERT INTO hb
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 300) i;
CREATE TABLE hq (qid int, q vector(8));
INSERT INTO hq
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 20) i;

SET enable_seqscan = off;
SET hnsw.ef_search = 100;

-- l2: the index's top 10 equals the exact top 10 for every query
CREATE INDEX hb_l2 ON hb USING hnsw (v vector_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hb ORDER BY v <-> hq.q LIMIT 10) =
         ARRAY(SELECT id FROM hb ORDER BY (v <-> hq.q) + 0 LIMIT 10)) AS exact
FROM hq;
-- the index returns the same distances the operator computes
SELECT id, round((v <-> '[1,2,3,4,5,6,7,8]')::numeric, 4) AS dist
FROM hb ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 3;
DROP INDEX hb_l2;

-- inner product
CREATE INDEX hb_ip ON hb USING hnsw (v vector_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <#> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hb ORDER BY v <#> hq.q LIMIT 10) =
         ARRAY(SELECT id FROM hb ORDER BY (v <#> hq.q) + 0 LIMIT 10)) AS exact
FROM hq;
DROP INDEX hb_ip;

-- cosine
CREATE INDEX hb_cos ON hb USING hnsw (v vector_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hb ORDER BY v <=> hq.q LIMIT 10) =
         ARRAY(SELECT id FROM hb ORDER BY (v <=> hq.q) + 0 LIMIT 10)) AS exact
FROM hq;
DROP INDEX hb_cos;

-- l1
CREATE INDEX hb_l1 ON hb USING hnsw (v vector_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hb ORDER BY v <+> hq.q LIMIT 10) =
         ARRAY(SELECT id FROM hb ORDER BY (v <+> hq.q) + 0 LIMIT 10)) AS exact
FROM hq;
DROP INDEX hb_l1;

-- options: explicit m and ef_construction, stored in reloptions
CREATE INDEX hb_opts ON hb USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
SELECT reloptions FROM pg_class WHERE relname = 'hb_opts';
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hb ORDER BY v <-> hq.q LIMIT 5) =
         ARRAY(SELECT id FROM hb ORDER BY (v <-> hq.q) + 0 LIMIT 5)) AS exact
FROM hq;
DROP INDEX hb_opts;

-- the default operator class is vector_l2_ops
CREATE INDEX hb_default ON hb USING hnsw (v);
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
DROP INDEX hb_default;

-- a distance the index does not serve is not planned on it
CREATE INDEX hb_l2 ON hb USING hnsw (v vector_l2_ops);
SELECT * FROM hnsw_check('hb_l2');
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;

-- without enable_seqscan = off the planner still picks the index for kNN
RESET enable_seqscan;
INSERT INTO hb
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(301, 5000) i;
ANALYZE hb;
EXPLAIN (COSTS OFF) SELECT id FROM hb ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SET enable_seqscan = off;

-- NULLs are not indexed; cosine does not index zero vectors
CREATE TABLE hn (id int, v vector(3));
INSERT INTO hn VALUES (1, '[1,0,0]'), (2, NULL), (3, '[0,0,0]'), (4, '[0,1,0]'), (5, '[1,1,0]');
CREATE INDEX ON hn USING hnsw (v vector_cosine_ops);
SELECT id FROM hn ORDER BY v <=> '[1,0.1,0]' LIMIT 10;
CREATE INDEX hn_l2 ON hn USING hnsw (v vector_l2_ops);
SELECT id FROM hn ORDER BY v <-> '[1,0.1,0]' LIMIT 10;
-- a NULL query returns the indexed rows, in no particular order
SELECT count(*) FROM (SELECT id FROM hn ORDER BY v <-> (SELECT NULL::vector) LIMIT 10) s;
-- a zero query under cosine: every distance is undefined, rows still come back
SELECT count(*) FROM (SELECT id FROM hn ORDER BY v <=> '[0,0,0]' LIMIT 10) s;

-- an empty table, then rows arrive
CREATE TABLE he (id int, v vector(2));
CREATE INDEX ON he USING hnsw (v);
SELECT id FROM he ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO he VALUES (1, '[1,1]'), (2, '[2,2]'), (3, '[3,3]'), (4, NULL);
SELECT id FROM he ORDER BY v <-> '[0,0]' LIMIT 3;

-- a column without a typmod: all rows must agree on dimensions
CREATE TABLE hm (id int, v vector);
INSERT INTO hm VALUES (1, '[1,2]'), (2, '[1,2,3]');
CREATE INDEX ON hm USING hnsw (v);
DELETE FROM hm WHERE id = 2;
CREATE INDEX hm_idx ON hm USING hnsw (v);
INSERT INTO hm VALUES (3, '[1,2,3]');
SELECT id FROM hm ORDER BY v <-> '[1,2,3]' LIMIT 1;

-- operator classes pass amvalidate
SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'hnsw' ORDER BY opcname;

-- an unlogged table gets an init fork
CREATE UNLOGGED TABLE hu (id int, v vector(2));
CREATE INDEX hu_idx ON hu USING hnsw (v);
INSERT INTO hu VALUES (1, '[1,1]');
SELECT id FROM hu ORDER BY v <-> '[0,0]' LIMIT 1;

-- a graph that outgrows maintenance_work_mem is finished on disk, with a NOTICE
SET client_min_messages = notice;
SELECT setseed(0.5);
CREATE TABLE hs (id int PRIMARY KEY, v vector(32));
INSERT INTO hs
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 32) WHERE i > 0)::vector
FROM generate_series(1, 5000) i;
ANALYZE hs;
SET maintenance_work_mem = '1MB';
CREATE INDEX hs_idx ON hs USING hnsw (v);
RESET maintenance_work_mem;
SELECT * FROM hnsw_check('hs_idx');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT h2.id FROM hs h2 ORDER BY h2.v <-> h1.v LIMIT 1) = h1.id) AS found
FROM hs h1;

-- vectors that leave an element room for one upper layer (m = 16): a level
-- drawn higher is capped to what fits a page, in the build and in inserts
-- (each element once failed with a chance of 1 in 256, drawing again)
SELECT setseed(0.5);
CREATE TABLE ht (id int, v vector(1950));
INSERT INTO ht
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 1950) WHERE i > 0)::vector
FROM generate_series(1, 1000) i;
CREATE INDEX ht_idx ON ht USING hnsw (v);
INSERT INTO ht
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 1950) WHERE i > 0)::vector
FROM generate_series(1001, 2000) i;
SELECT * FROM hnsw_check('ht_idx');
SELECT count(*) AS rows, count(*) FILTER (WHERE v IS NOT NULL) AS vectors FROM ht;

DROP TABLE hb, hq, hn, he, hm, hu, hs, ht;
