-- hnsw: iterative scans fill a LIMIT when a WHERE filter removes most rows.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

SELECT setseed(0.3);
CREATE TABLE hi (id int PRIMARY KEY, category int, v vector(8));
INSERT INTO hi
SELECT i, i % 100, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 5000) i;
CREATE INDEX ON hi USING hnsw (v);

-- exact answer for the filter that keeps 1% of the rows
CREATE TABLE hi_exact AS
SELECT ARRAY(SELECT id FROM hi WHERE category = 7
             ORDER BY (v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') + 0 LIMIT 10) AS ids;

-- off (the default): a scan returns at most hnsw.ef_search rows, so the
-- filter sees only those: the filtered query returns exactly the matching
-- rows among what the unfiltered scan returns, in the same order
SHOW hnsw.iterative_scan;
SHOW hnsw.ef_search;
SELECT count(*) AS rows_without_iterative_scan
FROM (SELECT id FROM hi ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 100) s;
SELECT ARRAY(SELECT id FROM hi WHERE category = 7
             ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10) =
       ARRAY(SELECT id FROM (SELECT id, category, v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' AS d FROM hi
                             ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 100) s
             WHERE category = 7 ORDER BY d LIMIT 10) AS filter_sees_first_ef_search;

-- strict_order: all 10, in exact distance order
SET hnsw.iterative_scan = strict_order;
EXPLAIN (COSTS OFF) SELECT id FROM hi WHERE category = 7
ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SELECT ARRAY(SELECT id FROM hi WHERE category = 7
             ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10) = ids AS exact
FROM hi_exact;

-- relaxed_order: all 10, the same rows (order may differ slightly)
SET hnsw.iterative_scan = relaxed_order;
SELECT ARRAY(SELECT id FROM (SELECT id FROM hi WHERE category = 7
             ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10) s ORDER BY id) =
       ARRAY(SELECT unnest(ids) ORDER BY 1) AS same_rows
FROM hi_exact;

-- a LIMIT larger than ef_search is filled too, without duplicates
SET hnsw.ef_search = 10;
SELECT count(*), count(DISTINCT id)
FROM (SELECT id FROM hi ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 300) s;
RESET hnsw.ef_search;

-- hnsw.max_scan_tuples bounds how far a scan goes
SET hnsw.max_scan_tuples = 40;
SELECT count(*) <= 40 AS bounded
FROM (SELECT id FROM hi WHERE category = 7
      ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 100) s;
RESET hnsw.max_scan_tuples;

-- settings and their bounds
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SET hnsw.iterative_scan = sideways;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0.5;
SET hnsw.scan_mem_multiplier = 1001;
RESET hnsw.iterative_scan;

DROP TABLE hi, hi_exact;
