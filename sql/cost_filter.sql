-- The planner's choice between an hnsw or ivfflat index and the exact plans
-- (seq scan or btree, then a sort) for ORDER BY distance LIMIT 10 under WHERE
-- filters keeping 0.1 %, 1 %, 10 % and 99 % of the rows, with and without a
-- btree on the filter column, with iterative scans off and on.  A path that
-- cannot fill the LIMIT (iterative scan off: about ef_search or probes * rows
-- per list * selectivity rows) loses to an exact plan; an iterative path
-- costs more the more selective the filter, so exact plans win at 0.1 % and
-- 1 %.  Each line: the plan, and the rows the query returns.
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 0;

SELECT setseed(0.5);
CREATE TABLE cf (id int, cat int, v vector(8));
INSERT INTO cf
SELECT i, i % 1000, ARRAY(SELECT random()::real FROM generate_series(1, 8) WHERE i > 0)::vector
FROM generate_series(1, 10000) i;
ANALYZE cf;

-- the plan of query q, one line: its nodes from the top, without details
CREATE FUNCTION cf_plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	line text;
	plan text := '';
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
		line := regexp_replace(line, '^\s*(->\s+)?', '');
		IF line !~ ':' THEN
			plan := plan || CASE WHEN plan = '' THEN '' ELSE ' > ' END || line;
		END IF;
	END LOOP;
	RETURN plan;
END $$;

-- rows returned by query q
CREATE FUNCTION cf_rows(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	EXECUTE 'SELECT count(*) FROM (' || q || ') s' INTO n;
	RETURN n;
END $$;

-- one line per filter: selectivity, plan, rows returned
CREATE VIEW cf_choices AS
SELECT sel, cf_plan(q) AS plan, cf_rows(q) AS rows
FROM (VALUES (1, '0.1%', 'cat = 7'), (2, '1%', 'cat < 10'),
             (3, '10%', 'cat < 100'), (4, '99%', 'cat < 990')) f(n, sel, cond),
     LATERAL (SELECT format('SELECT id FROM cf WHERE %s ORDER BY v <-> %L LIMIT 10',
                            cond, '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') AS q) s
ORDER BY n;

-- the exact number of rows each filter keeps
SELECT count(*) FILTER (WHERE cat = 7) AS "0.1%", count(*) FILTER (WHERE cat < 10) AS "1%",
       count(*) FILTER (WHERE cat < 100) AS "10%", count(*) FILTER (WHERE cat < 990) AS "99%"
FROM cf;

-- ---- hnsw --------------------------------------------------------------------
CREATE INDEX cf_hnsw ON cf USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);

-- no filter: the index
EXPLAIN (COSTS OFF) SELECT id FROM cf ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;

-- no btree, iterative scan off: 40 candidates hold about 0.04, 0.4 and 4 rows
-- of the first three filters, so a seq scan and a sort; 99 %: the index
SHOW hnsw.iterative_scan;
SELECT * FROM cf_choices;
-- iterative: about 10 / s candidates; 10 %: the index
SET hnsw.iterative_scan = relaxed_order;
SELECT * FROM cf_choices;
-- strict_order returns half of the first search's candidates and a quarter
-- of a later one's before it searches again: at 10 %, the seq scan
SET hnsw.iterative_scan = strict_order;
SELECT * FROM cf_choices;

-- with a btree on cat: the btree where the index cannot fill the LIMIT or
-- costs more
CREATE INDEX cf_cat ON cf (cat);
ANALYZE cf;
RESET hnsw.iterative_scan;
SELECT * FROM cf_choices;
EXPLAIN (COSTS OFF) SELECT id FROM cf WHERE cat < 10
ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
SET hnsw.iterative_scan = relaxed_order;
SELECT * FROM cf_choices;
-- strict_order: at 10 %, the btree
SET hnsw.iterative_scan = strict_order;
SELECT * FROM cf_choices;

-- an iterative scan bounded by hnsw.max_scan_tuples = 50 cannot fill the
-- LIMIT at 10 % either (50 candidates hold about 5 rows): the btree
SET hnsw.max_scan_tuples = 50;
SELECT * FROM cf_choices;
RESET hnsw.max_scan_tuples;

-- a larger ef_search fills the LIMIT at 10 % without iterating
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 200;
SELECT * FROM cf_choices;
RESET hnsw.ef_search;

-- with every exact plan disabled the index is still used
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_indexscan = on;
DROP INDEX cf_cat;
EXPLAIN (COSTS OFF) SELECT id FROM cf WHERE cat = 7
ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;
RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_indexscan;

DROP INDEX cf_hnsw;

-- the estimate follows the index's own m (its metapage), not the default:
-- one search at ef_search 40 evaluates about 2m * 40 + m ln n elements,
-- 357 at m = 4 and 4,282 at m = 48 (ratio 12); with m taken as 16 for both
-- the two costs would be equal.  The index scan's startup cost is the
-- index's own estimate (all of it is startup).
CREATE FUNCTION cf_startup_cost(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
	RETURN (plan->0->'Plan'->'Plans'->0->>'Startup Cost')::float8;
END $$;
CREATE TABLE cf_costs (m int, cost float8);
CREATE INDEX cf_m4 ON cf USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
INSERT INTO cf_costs SELECT 4, cf_startup_cost(
	'SELECT id FROM cf ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 10');
DROP INDEX cf_m4;
CREATE INDEX cf_m48 ON cf USING hnsw (v vector_l2_ops) WITH (m = 48, ef_construction = 96);
INSERT INTO cf_costs SELECT 48, cf_startup_cost(
	'SELECT id FROM cf ORDER BY v <-> ''[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]'' LIMIT 10');
DROP INDEX cf_m48;
SELECT c48.cost / c4.cost BETWEEN 10 AND 14 AS cost_ratio_follows_m
FROM cf_costs c4, cf_costs c48 WHERE c4.m = 4 AND c48.m = 48;
DROP TABLE cf_costs;
DROP FUNCTION cf_startup_cost(text);

-- ---- ivfflat -----------------------------------------------------------------
-- 50 lists of about 200 rows; one probe holds about 0.2, 2, 20 and 198 rows
-- of the four filters
CREATE INDEX cf_ivfflat ON cf USING ivfflat (v vector_l2_ops) WITH (lists = 50);
ANALYZE cf;

EXPLAIN (COSTS OFF) SELECT id FROM cf ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 10;

-- no btree, iterative scan off: the index at 10 % and 99 %
SHOW ivfflat.iterative_scan;
SELECT * FROM cf_choices;
-- iterative: 1 % needs about 5 of the 50 lists: the index
SET ivfflat.iterative_scan = relaxed_order;
SELECT * FROM cf_choices;
-- bounded by ivfflat.max_probes, it cannot fill the LIMIT at 1 %
SET ivfflat.max_probes = 2;
SELECT * FROM cf_choices;
RESET ivfflat.max_probes;

CREATE INDEX cf_cat ON cf (cat);
ANALYZE cf;
RESET ivfflat.iterative_scan;
SELECT * FROM cf_choices;
SET ivfflat.iterative_scan = relaxed_order;
SELECT * FROM cf_choices;
RESET ivfflat.iterative_scan;

-- more probes fill the LIMIT at 1 % without iterating
SET ivfflat.probes = 10;
SELECT * FROM cf_choices;
RESET ivfflat.probes;

DROP VIEW cf_choices;
DROP FUNCTION cf_plan(text), cf_rows(text);
DROP TABLE cf;
