-- hnsw: progress phases, CREATE/REINDEX INDEX CONCURRENTLY, partitioned
-- tables, and the planner's choice between hnsw and a selective btree.
SET client_min_messages = warning;

-- the build phases pg_stat_progress_create_index shows for hnsw
SELECT p AS phase, pg_indexam_progress_phasename(a.oid, p) AS name
FROM pg_am a, generate_series(1, 3) p WHERE a.amname = 'hnsw';

SELECT setseed(0.9);
CREATE TABLE hmt (id int PRIMARY KEY, category int, v vector(4));
INSERT INTO hmt
SELECT i, i % 500, ARRAY(SELECT random()::real FROM generate_series(1, 4) WHERE i > 0)::vector
FROM generate_series(1, 5000) i;
CREATE INDEX hmt_category ON hmt (category);
ANALYZE hmt;

-- CREATE INDEX CONCURRENTLY and REINDEX CONCURRENTLY
CREATE INDEX CONCURRENTLY hmt_v ON hmt USING hnsw (v);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'hmt_v'::regclass;
SELECT count(*) FROM hnsw_check('hmt_v');
REINDEX INDEX CONCURRENTLY hmt_v;
SELECT indisvalid FROM pg_index WHERE indexrelid = 'hmt_v'::regclass;
SELECT count(*) FROM hnsw_check('hmt_v');
SET enable_seqscan = off;
SELECT id FROM hmt ORDER BY v <-> (SELECT v FROM hmt WHERE id = 42) LIMIT 1;
RESET enable_seqscan;

-- the planner: kNN alone uses hnsw
EXPLAIN (COSTS OFF) SELECT id FROM hmt ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
-- a filter keeping 10 of 5000 rows: the btree and a sort are cheaper
SET hnsw.iterative_scan = strict_order;
EXPLAIN (COSTS OFF) SELECT id FROM hmt WHERE category = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
-- a filter keeping most rows: hnsw, filtering as it goes
EXPLAIN (COSTS OFF) SELECT id FROM hmt WHERE category > 10 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
-- both plans give the same rows
SELECT ARRAY(SELECT id FROM hmt WHERE category = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5) =
       ARRAY(SELECT id FROM hmt WHERE category = 7 ORDER BY (v <-> '[0.5,0.5,0.5,0.5]') + 0 LIMIT 5) AS same;
RESET hnsw.iterative_scan;

-- a partitioned table: one hnsw index per partition, merged in order
CREATE TABLE hpt (id int, part int, v vector(4)) PARTITION BY LIST (part);
CREATE TABLE hpt_a PARTITION OF hpt FOR VALUES IN (0);
CREATE TABLE hpt_b PARTITION OF hpt FOR VALUES IN (1);
INSERT INTO hpt SELECT id, id % 2, v FROM hmt;
CREATE INDEX hpt_v ON hpt USING hnsw (v);
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'hpt_v'::regclass ORDER BY 1;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hpt ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
SELECT ARRAY(SELECT id FROM hpt ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5) =
       ARRAY(SELECT id FROM hmt ORDER BY (v <-> '[0.5,0.5,0.5,0.5]') + 0 LIMIT 5) AS same;
RESET enable_seqscan;

-- pages a search pins keep a usage count, so hot graph pages are not the
-- first the clock sweep evicts (most pins skip the buffer mapping lookup,
-- which alone raises it)
CREATE EXTENSION pg_buffercache;
CREATE TABLE huc (id int, v vector(8));
SELECT setseed(0.1);
INSERT INTO huc SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 3000) i;
CREATE INDEX huc_v ON huc USING hnsw (v);
SET enable_seqscan = off;
DO $$
DECLARE r int;
BEGIN
	FOR i IN 1..300 LOOP
		SELECT id INTO r FROM huc
		ORDER BY v <-> ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector LIMIT 1;
	END LOOP;
END $$;
RESET enable_seqscan;
SELECT max(usagecount) >= 4 AS hot_pages_kept_warm FROM pg_buffercache
WHERE relfilenode = pg_relation_filenode('huc_v') AND relblocknumber > 0;
DROP EXTENSION pg_buffercache;

DROP TABLE hmt, hpt, huc;
