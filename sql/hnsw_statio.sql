-- pg_statio_user_indexes counts every page an hnsw scan pins, also those
-- pinned through the backend's block -> buffer map (ReadRecentBuffer, which
-- does not count them itself): the index's idx_blks_hit + idx_blks_read rise
-- by the shared buffers the scan used (EXPLAIN's count for the whole query)
-- less the heap's, as for a ReadBuffer of each page.  Before, only the
-- ReadBuffer calls were counted: after a warm-up about 1 pin in 64.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET jit = off;
SELECT setseed(0.3);
CREATE TABLE hs (id int, v vector(4));
ALTER TABLE hs ALTER v SET STORAGE PLAIN;
INSERT INTO hs SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 4) WHERE i > 0)::vector
FROM generate_series(1, 3000) i;
CREATE INDEX hs_v ON hs USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SET hnsw.ef_search = 200;

-- shared buffers the query used (hits and reads), from EXPLAIN ANALYZE
CREATE FUNCTION hs_buffers(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO plan;
	RETURN (plan->0->'Plan'->>'Shared Hit Blocks')::bigint +
		(plan->0->'Plan'->>'Shared Read Blocks')::bigint;
END $$;
CREATE VIEW hs_counts AS
SELECT (SELECT idx_blks_read + idx_blks_hit FROM pg_statio_user_indexes
        WHERE indexrelname = 'hs_v') AS idx,
       (SELECT heap_blks_read + heap_blks_hit FROM pg_statio_user_tables
        WHERE relname = 'hs') AS heap;

-- warm up: the map learns the index's pages
SELECT count(*) FROM (SELECT id FROM hs ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM hs ORDER BY v <-> '[0.5,0.5,0.5,0.5]' LIMIT 10) s;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE hs_before AS SELECT * FROM hs_counts;
CREATE TEMP TABLE hs_used AS
SELECT hs_buffers('SELECT id FROM hs ORDER BY v <-> ''[0.5,0.5,0.5,0.5]'' LIMIT 10') AS buffers;
SELECT pg_stat_force_next_flush();
SELECT u.buffers > 100 AS scan_used_buffers,
       (a.idx - b.idx) >= 0.95 * (u.buffers - (a.heap - b.heap)) AS index_pins_counted,
       (a.idx - b.idx) <= u.buffers AS no_more_than_used
FROM hs_before b, hs_counts a, hs_used u;

DROP VIEW hs_counts;
DROP FUNCTION hs_buffers(text);
DROP TABLE hs;
