-- hnsw: rows inserted after the build are found, deleted rows vanish (and
-- never come back after VACUUM), REINDEX, and the settings.
SET client_min_messages = warning;
SET enable_seqscan = off;

SELECT setseed(0.7);
CREATE TABLE hd (id int PRIMARY KEY, v vector(16));
INSERT INTO hd
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 1000) i;
CREATE INDEX hd_idx ON hd USING hnsw (v) WITH (m = 8, ef_construction = 32);

-- a sound index: hnsw_check finds nothing
SELECT * FROM hnsw_check('hd_idx');

-- every row inserted after the build is its own nearest neighbour
INSERT INTO hd
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1001, 1500) i;
SELECT count(*) AS inserted,
       count(*) FILTER (WHERE (SELECT h2.id FROM hd h2 ORDER BY h2.v <-> h1.v LIMIT 1) = h1.id) AS found
FROM hd h1 WHERE id > 1000;

SELECT problem FROM hnsw_check('hd_idx') WHERE problem <> 'unreachable';

-- so is every row of the build
SELECT count(*) AS built,
       count(*) FILTER (WHERE (SELECT h2.id FROM hd h2 ORDER BY h2.v <-> h1.v LIMIT 1) = h1.id) AS found
FROM hd h1 WHERE id <= 1000;

-- deleted rows are not returned, before or after VACUUM
CREATE TABLE hd_deleted AS SELECT id, v FROM hd WHERE id % 3 = 0;
DELETE FROM hd WHERE id % 3 = 0;
SELECT count(*) AS returned_deleted FROM hd_deleted d
WHERE (SELECT h.id FROM hd h ORDER BY h.v <-> d.v LIMIT 1) % 3 = 0;
VACUUM hd;
SELECT count(*) AS returned_deleted FROM hd_deleted d
WHERE (SELECT h.id FROM hd h ORDER BY h.v <-> d.v LIMIT 1) % 3 = 0;
-- the survivors are still found
SELECT count(*) AS live,
       count(*) FILTER (WHERE (SELECT h2.id FROM hd h2 ORDER BY h2.v <-> h1.v LIMIT 1) = h1.id) AS found
FROM hd h1;
-- new rows may reuse deleted heap slots: they are found, the old ones are not
CREATE TEMP TABLE size_before AS SELECT pg_relation_size('hd_idx') AS bytes;
INSERT INTO hd SELECT id + 10000, v FROM hd_deleted WHERE id <= 300;
-- and they go into the index slots VACUUM freed: the index does not grow
SELECT pg_relation_size('hd_idx') = bytes AS same_size FROM size_before;
SELECT count(*) AS reinserted,
       count(*) FILTER (WHERE (SELECT h.id FROM hd h ORDER BY h.v <-> d.v LIMIT 1) = d.id + 10000) AS found
FROM hd_deleted d WHERE id <= 300;
SELECT problem FROM hnsw_check('hd_idx') WHERE problem <> 'unreachable';
-- VACUUM reports the live index tuples
VACUUM hd;
SELECT reltuples FROM pg_class WHERE relname = 'hd_idx';

-- REINDEX gives an index that answers the same
REINDEX INDEX hd_idx;
SELECT * FROM hnsw_check('hd_idx');
SELECT count(*) AS live,
       count(*) FILTER (WHERE (SELECT h2.id FROM hd h2 ORDER BY h2.v <-> h1.v LIMIT 1) = h1.id) AS found
FROM hd h1;

-- UPDATE moves a row in the index
UPDATE hd SET v = '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' WHERE id = 1;
SELECT id FROM hd ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' LIMIT 1;

-- hnsw.ef_search bounds how many rows one scan returns
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 50) s;
SET hnsw.ef_search = 50;
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 50) s;
SHOW hnsw.ef_search;
RESET hnsw.ef_search;
SHOW hnsw.ef_search;

-- a transaction that rolls back leaves nothing visible
BEGIN;
INSERT INTO hd VALUES (99999, '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]');
SELECT id FROM hd ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 1;
ROLLBACK;
SELECT id FROM hd ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 1;


-- VACUUM's repair searches with a visited set that outgrows its first size
-- (small m and ef_construction, a third of the rows deleted); it must grow
-- in the memory context it was made in, which outlives each element's repair
SELECT setseed(0.11);
CREATE TABLE hg (id int PRIMARY KEY, v vector(16));
INSERT INTO hg
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 6000) i;
CREATE INDEX hg_idx ON hg USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 16);
DELETE FROM hg WHERE id % 3 = 0;
VACUUM hg;
SELECT * FROM hnsw_check('hg_idx');
SELECT count(*) FROM hg;

DROP TABLE hd, hd_deleted, hg;
