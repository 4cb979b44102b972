-- ivfflat: building an index for every operator class, exact order when all
-- lists are probed, the recall of fewer probes, EXPLAIN, NULL and zero
-- vectors, small and empty tables, options.
SET client_min_messages = warning;

-- 2000 random 8-dimensional vectors and 20 queries, deterministic
SELECT setseed(0.42);
CREATE TABLE ib (id int PRIMARY KEY, v vector(8));
INSERT INTO ib
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 2000) i;
CREATE TABLE iq (qid int, q vector(8));
INSERT INTO iq
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 20) i;

SET enable_seqscan = off;

-- l2: probing every list gives the exact top 10 for every query
CREATE INDEX ib_l2 ON ib USING ivfflat (v vector_l2_ops) WITH (lists = 20);
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SET ivfflat.probes = 20;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10) =
         ARRAY(SELECT id FROM ib ORDER BY (v <-> iq.q) + 0 LIMIT 10)) AS exact
FROM iq;
-- the index returns the same distances the operator computes
SELECT id, round((v <-> '[1,2,3,4,5,6,7,8]')::numeric, 4) AS dist
FROM ib ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 3;
-- probes beyond the number of lists is the same as all lists
SET ivfflat.probes = 1000;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10) =
         ARRAY(SELECT id FROM ib ORDER BY (v <-> iq.q) + 0 LIMIT 10)) AS exact
FROM iq;
-- one probe reads one list of about 100 rows: a scan returns only those,
-- and recall@10 is lower than with 5 probes
SET ivfflat.probes = 1;
SELECT count(*) < 2000 AS fewer_rows
FROM (SELECT id FROM ib ORDER BY v <-> '[1,2,3,4,5,6,7,8]') s;
CREATE TEMP TABLE recall AS
SELECT 1 AS probes, avg(cardinality(ARRAY(
         SELECT unnest(ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10))
         INTERSECT
         SELECT unnest(ARRAY(SELECT id FROM ib ORDER BY (v <-> iq.q) + 0 LIMIT 10))))) / 10 AS recall
FROM iq;
SET ivfflat.probes = 5;
INSERT INTO recall
SELECT 5, avg(cardinality(ARRAY(
         SELECT unnest(ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10))
         INTERSECT
         SELECT unnest(ARRAY(SELECT id FROM ib ORDER BY (v <-> iq.q) + 0 LIMIT 10))))) / 10
FROM iq;
SELECT (SELECT recall FROM recall WHERE probes = 1) <
       (SELECT recall FROM recall WHERE probes = 5) AS more_probes_more_recall,
       (SELECT recall FROM recall WHERE probes = 5) >= 0.6 AS five_probes_recall_ok;
DROP TABLE recall;
DROP INDEX ib_l2;

-- inner product
SET ivfflat.probes = 20;
CREATE INDEX ib_ip ON ib USING ivfflat (v vector_ip_ops) WITH (lists = 20);
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <#> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM ib ORDER BY v <#> iq.q LIMIT 10) =
         ARRAY(SELECT id FROM ib ORDER BY (v <#> iq.q) + 0 LIMIT 10)) AS exact
FROM iq;
DROP INDEX ib_ip;

-- cosine
CREATE INDEX ib_cos ON ib USING ivfflat (v vector_cosine_ops) WITH (lists = 20);
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM ib ORDER BY v <=> iq.q LIMIT 10) =
         ARRAY(SELECT id FROM ib ORDER BY (v <=> iq.q) + 0 LIMIT 10)) AS exact
FROM iq;
DROP INDEX ib_cos;

-- every row is in exactly one list
CREATE INDEX ib_l2 ON ib USING ivfflat (v vector_l2_ops) WITH (lists = 20);
SELECT count(*), count(DISTINCT id)
FROM (SELECT id FROM ib ORDER BY v <-> '[0,0,0,0,0,0,0,0]') s;

-- the option is stored in reloptions; the default operator class is vector_l2_ops
SELECT reloptions FROM pg_class WHERE relname = 'ib_l2';
DROP INDEX ib_l2;
CREATE INDEX ib_default ON ib USING ivfflat (v);
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
-- a distance the index does not serve is not planned on it
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;
DROP INDEX ib_default;

-- without enable_seqscan = off the planner still picks the index for kNN
RESET enable_seqscan;
INSERT INTO ib
SELECT i, ARRAY(SELECT round((random() * 20 - 10)::numeric, 3)::real
                FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(2001, 10000) i;
CREATE INDEX ib_l2 ON ib USING ivfflat (v vector_l2_ops) WITH (lists = 50);
ANALYZE ib;
EXPLAIN (COSTS OFF) SELECT id FROM ib ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SET enable_seqscan = off;

-- the build is deterministic: REINDEX gives the same index and answers
SET ivfflat.probes = 3;
CREATE TEMP TABLE before AS
SELECT qid, ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10) AS ids FROM iq;
SELECT pg_relation_size('ib_l2') AS size1 \gset
REINDEX INDEX ib_l2;
SELECT pg_relation_size('ib_l2') = :size1 AS same_size,
       count(*) FILTER (WHERE b.ids = ARRAY(SELECT id FROM ib ORDER BY v <-> iq.q LIMIT 10)) AS same_answers
FROM iq JOIN before b USING (qid);
DROP TABLE before;
DROP INDEX ib_l2;

-- NULLs are not indexed; cosine does not index zero vectors
SET client_min_messages = notice;
CREATE TABLE inl (id int, v vector(3));
INSERT INTO inl VALUES (1, '[1,0,0]'), (2, NULL), (3, '[0,0,0]'), (4, '[0,1,0]'), (5, '[1,1,0]');
-- fewer rows than lists: one list per row, with a NOTICE
CREATE INDEX ON inl USING ivfflat (v vector_cosine_ops) WITH (lists = 10);
SELECT id FROM inl ORDER BY v <=> '[1,0.1,0]' LIMIT 10;
CREATE INDEX inl_l2 ON inl USING ivfflat (v vector_l2_ops) WITH (lists = 2);
SET ivfflat.probes = 2;
SELECT id FROM inl ORDER BY v <-> '[1,0.1,0]' LIMIT 10;
-- a NULL query returns the indexed rows, in no particular order
SELECT count(*) FROM (SELECT id FROM inl ORDER BY v <-> (SELECT NULL::vector) LIMIT 10) s;
-- a zero query under cosine: every distance is undefined, rows still come back
SELECT count(*) FROM (SELECT id FROM inl ORDER BY v <=> '[0,0,0]' LIMIT 10) s;

-- an empty table: no list until the first insert, which creates one
CREATE TABLE ie (id int, v vector(2));
CREATE INDEX ON ie USING ivfflat (v) WITH (lists = 4);
SET client_min_messages = warning;
SELECT id FROM ie ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO ie VALUES (1, '[1,1]'), (2, '[2,2]'), (3, '[3,3]'), (4, NULL);
SELECT id FROM ie ORDER BY v <-> '[0,0]' LIMIT 3;
INSERT INTO ie SELECT i, ARRAY[i, i]::real[]::vector FROM generate_series(5, 1000) i;
SELECT id FROM ie ORDER BY v <-> '[500.2,500.2]' LIMIT 3;

-- a column without a typmod: all rows must agree on dimensions
CREATE TABLE im (id int, v vector);
INSERT INTO im VALUES (1, '[1,2]'), (2, '[1,2,3]');
CREATE INDEX ON im USING ivfflat (v) WITH (lists = 1);
DELETE FROM im WHERE id = 2;
CREATE INDEX im_idx ON im USING ivfflat (v) WITH (lists = 1);
INSERT INTO im VALUES (3, '[1,2,3]');
SELECT id FROM im ORDER BY v <-> '[1,2,3]' LIMIT 1;

-- operator classes pass amvalidate
SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'ivfflat' AND opcintype = 'vector'::regtype ORDER BY opcname;

-- an unlogged table gets an init fork
CREATE UNLOGGED TABLE iu (id int, v vector(2));
CREATE INDEX iu_idx ON iu USING ivfflat (v) WITH (lists = 2);
INSERT INTO iu VALUES (1, '[1,1]');
SELECT id FROM iu ORDER BY v <-> '[0,0]' LIMIT 1;

-- more samples than k-means++ seeds from (16,384, and 16 per list: 20,000
-- samples for 400 lists, L2): seeds from a subset, the first assignment by the
-- blocked nearest-centroid search; every row in its nearest list, and
-- probing all lists exact
CREATE TABLE isub (id int, v vector(4));
INSERT INTO isub SELECT i, ARRAY[(i % 97) * 3.5, (i % 89) - 40, sin(i) * 20, (i % 7) * (i % 5)]::real[]
FROM generate_series(1, 20000) i;
SET maintenance_work_mem = '64MB';
CREATE INDEX isub_idx ON isub USING ivfflat (v vector_l2_ops) WITH (lists = 400);
RESET maintenance_work_mem;
SELECT count(*) AS problems FROM ivfflat_check('isub_idx');
SET ivfflat.probes = 400;
SELECT count(*) AS differences FROM (
	(SELECT id FROM isub ORDER BY v <-> '[100,3,-5,9]', id LIMIT 20)
	EXCEPT
	(SELECT id FROM isub ORDER BY v <-> '[100,3,-5,9]' LIMIT 20)) d;
-- the same path on duplicate-heavy rows (40 distinct vectors in 20,000 rows:
-- most seeds and centroids coincide, every row ties with many others)
CREATE TABLE isubdup (id int, v vector(4));
INSERT INTO isubdup SELECT i, ARRAY[i % 40, (i % 40) * 2 - 30, (i % 8) * 1.5, 1]::real[]
FROM generate_series(1, 20000) i;
SET maintenance_work_mem = '64MB';
CREATE INDEX isubdup_idx ON isubdup USING ivfflat (v vector_l2_ops) WITH (lists = 400);
RESET maintenance_work_mem;
SELECT count(*) AS problems FROM ivfflat_check('isubdup_idx');
SELECT count(*) AS rows_at_distance_0 FROM (
	SELECT id FROM isubdup ORDER BY v <-> '[7,-16,10.5,1]' LIMIT 600) d
WHERE (SELECT v FROM isubdup x WHERE x.id = d.id) <-> '[7,-16,10.5,1]' = 0;
RESET ivfflat.probes;

DROP TABLE ib, iq, inl, ie, im, iu, isub, isubdup;
