-- hnsw: copies of rows inserted after VACUUM freed the slots of deleted rows
-- beside them.  A copy becomes a duplicate item, often in a freed slot on its
-- owner's own page; overwriting that slot moves the page's items, and the
-- owner's chain link must be written where the owner is after the move.
-- Before that was so, 5 of these 300 copies were on no chain (their rows
-- never returned) and each wrote its link into another item's bytes.
SET client_min_messages = warning;
SELECT setseed(0.5);
CREATE TABLE ds (id int, v vector(24));
INSERT INTO ds
SELECT i, ARRAY(SELECT round(random()::numeric, 3)::real FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 600) i;
CREATE INDEX ds_idx ON ds USING hnsw (v vector_l2_ops);
DELETE FROM ds WHERE id % 2 = 0;
VACUUM ds;
INSERT INTO ds SELECT id + 1000, v FROM ds;
SELECT problem, count(*) FROM hnsw_check('ds_idx') GROUP BY 1;
-- every row, original and copy, is found by an iterative scan
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*) AS missed FROM ds
WHERE id NOT IN (SELECT id FROM ds ORDER BY v <-> (SELECT v FROM ds WHERE id = 1) LIMIT 100000);
-- each copy comes back right beside its original, at distance 0
SET hnsw.iterative_scan = off;
SELECT count(*) AS with_copy FROM ds o
WHERE o.id < 1000 AND (SELECT array_agg(id ORDER BY id) FROM
	(SELECT id FROM ds ORDER BY v <-> o.v LIMIT 2) s) = ARRAY[o.id, o.id + 1000];
DROP TABLE ds;
