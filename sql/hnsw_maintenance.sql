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
-- a filter keeping 50 of 5000 rows: an iterative search must grow ef until
-- ef times the filter's share reaches the LIMIT (ef 640 here), so the
-- btree and a sort are cheaper again (a cost that ignored the filter
-- would choose hnsw)
EXPLAIN (COSTS OFF) SELECT id FROM hmt WHERE category < 5 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
-- a filter keeping most rows: hnsw, filtering as it goes
EXPLAIN (COSTS OFF) SELECT id FROM hmt WHERE category > 10 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;
-- both plans give the same rows
SELECT ARRAY(SELECT id FROM hmt WHERE category = 7 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5) =
       ARRAY(SELECT id FROM hmt WHERE category = 7 ORDER BY (v <-> '[0.5,0.5,0.5,0.5]') + 0 LIMIT 5) AS same;
RESET hnsw.iterative_scan;
-- iterative scans off and a filter no index serves keeping 1% of the rows:
-- one search (ef_search 40) holds about 0.4 matching rows, short of the
-- LIMIT, so hnsw is charged the exact plan's cost on top and the sequential
-- scan and a sort win
EXPLAIN (COSTS OFF) SELECT id FROM hmt WHERE id % 100 = 1 ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 5;

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

-- (that the pages a search pins keep a usage count is checked in
-- test/t/018_hnsw_usage_count.pl, on a freshly started server)

DROP TABLE hmt, hpt;
