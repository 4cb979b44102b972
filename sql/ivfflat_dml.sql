-- ivfflat: rows inserted after the build are found, lists grow past one
-- page, deleted rows vanish (and never come back after VACUUM), REINDEX,
-- UPDATE, rollback, iterative scans and the settings.
SET client_min_messages = warning;
SET enable_seqscan = off;

SELECT setseed(0.7);
CREATE TABLE idm (id int PRIMARY KEY, v vector(16));
INSERT INTO idm
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1, 1000) i;
CREATE INDEX idm_idx ON idm USING ivfflat (v) WITH (lists = 10);
SET ivfflat.probes = 10;

-- every row inserted after the build is its own nearest neighbour (the
-- lists' tail pages fill up and new pages are chained)
INSERT INTO idm
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 16) WHERE i > 0)::vector
FROM generate_series(1001, 3000) i;
SELECT count(*) AS inserted,
       count(*) FILTER (WHERE (SELECT i2.id FROM idm i2 ORDER BY i2.v <-> i1.v LIMIT 1) = i1.id) AS found
FROM idm i1 WHERE id > 1000;

-- so is every row of the build, and each row is returned once
SELECT count(*) AS built,
       count(*) FILTER (WHERE (SELECT i2.id FROM idm i2 ORDER BY i2.v <-> i1.v LIMIT 1) = i1.id) AS found
FROM idm i1 WHERE id <= 1000;
SELECT count(*), count(DISTINCT id)
FROM (SELECT id FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;

-- with one probe a row is still found when its own list is probed
SET ivfflat.probes = 1;
SELECT count(*) FILTER (WHERE (SELECT i2.id FROM idm i2 ORDER BY i2.v <-> i1.v LIMIT 1) = i1.id) >= 2900 AS mostly_found
FROM idm i1;
SET ivfflat.probes = 10;

-- deleted rows are not returned, before or after VACUUM
CREATE TABLE idm_deleted AS SELECT id, v FROM idm WHERE id % 3 = 0;
DELETE FROM idm WHERE id % 3 = 0;
SELECT count(*) AS returned_deleted FROM idm_deleted d
WHERE (SELECT i.id FROM idm i ORDER BY i.v <-> d.v LIMIT 1) % 3 = 0;
VACUUM idm;
SELECT count(*) AS returned_deleted FROM idm_deleted d
WHERE (SELECT i.id FROM idm i ORDER BY i.v <-> d.v LIMIT 1) % 3 = 0;
-- the survivors are still found
SELECT count(*) AS live,
       count(*) FILTER (WHERE (SELECT i2.id FROM idm i2 ORDER BY i2.v <-> i1.v LIMIT 1) = i1.id) AS found
FROM idm i1;
-- new rows may reuse deleted heap slots: they are found, the old ones are not
INSERT INTO idm SELECT id + 10000, v FROM idm_deleted WHERE id <= 300;
SELECT count(*) AS reinserted,
       count(*) FILTER (WHERE (SELECT i.id FROM idm i ORDER BY i.v <-> d.v LIMIT 1) = d.id + 10000) AS found
FROM idm_deleted d WHERE id <= 300;
-- VACUUM reports the live index tuples
VACUUM idm;
SELECT reltuples FROM pg_class WHERE relname = 'idm_idx';

-- REINDEX gives an index that answers the same
REINDEX INDEX idm_idx;
SELECT count(*) AS live,
       count(*) FILTER (WHERE (SELECT i2.id FROM idm i2 ORDER BY i2.v <-> i1.v LIMIT 1) = i1.id) AS found
FROM idm i1;

-- UPDATE moves a row in the index
UPDATE idm SET v = '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' WHERE id = 1;
SELECT id FROM idm ORDER BY v <-> '[9,9,9,9,9,9,9,9,9,9,9,9,9,9,9,9]' LIMIT 1;

-- a transaction that rolls back leaves nothing visible
BEGIN;
INSERT INTO idm VALUES (99999, '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]');
SELECT id FROM idm ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 1;
ROLLBACK;
SELECT id FROM idm ORDER BY v <-> '[7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7]' LIMIT 1;

-- ivfflat.probes bounds the rows one scan returns: one list of ten
SET ivfflat.probes = 1;
SELECT count(*) < 1000 AS one_list
FROM (SELECT id FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
-- a filter that removes the probed rows leaves nothing ...
SELECT count(*) FROM (
  SELECT id FROM idm WHERE id % 1000 = 7
  ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 3) s;
-- ... unless the scan is iterative: it probes further lists until it has
-- enough rows, at most ivfflat.max_probes lists
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (
  SELECT id FROM idm WHERE id % 1000 = 7
  ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 3) s;
SELECT count(*), count(DISTINCT id)
FROM (SELECT id FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
SET ivfflat.max_probes = 2;
SELECT count(*) < (SELECT count(*) FROM idm) AS bounded
FROM (SELECT id FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
-- max_probes below probes: probes wins
SET ivfflat.probes = 10;
SELECT count(*) = (SELECT count(*) FROM idm) AS all_rows
FROM (SELECT id FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s;
-- within one probe round rows come back nearest first
SELECT bool_and(d >= prev) AS ordered FROM (
  SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY n) AS prev FROM (
    SELECT row_number() OVER () AS n, v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS d
    FROM (SELECT v FROM idm ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]') s) t) u;

SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;
RESET ivfflat.probes;
RESET ivfflat.iterative_scan;
RESET ivfflat.max_probes;
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;

DROP TABLE idm, idm_deleted;
