-- ivfflat_check: a sound index has no problem rows, through inserts,
-- deletes and VACUUM; an index whose file was altered on disk shows what
-- changed; anything but an ivfflat index is refused.
CREATE TABLE ic (id int, v vector(3));
-- two clusters, near (0,0,0) and near (100,100,100); row 1 is a unique value
INSERT INTO ic VALUES (1, '[1.5,2.5,3.25]');
INSERT INTO ic SELECT i, ARRAY[i % 7, i % 5, i % 3] FROM generate_series(2, 300) i;
INSERT INTO ic SELECT i, ARRAY[100 + i % 7, 100 + i % 5, 100 + i % 3] FROM generate_series(301, 600) i;
CREATE INDEX ic_idx ON ic USING ivfflat (v) WITH (lists = 2);
SELECT * FROM ivfflat_check('ic_idx');
-- inserts (pages added to lists), deletes and VACUUM keep it sound
INSERT INTO ic SELECT i, ARRAY[i % 11, i % 13, 100 + i % 3] FROM generate_series(601, 1200) i;
DELETE FROM ic WHERE id % 3 = 0;
VACUUM ic;
INSERT INTO ic SELECT i, ARRAY[50 + i % 11, i % 13, 100 - i % 3] FROM generate_series(1201, 1500) i;
SELECT * FROM ivfflat_check('ic_idx');
SELECT count(*) FROM ic;

-- an index built on an empty table, before and after its first insert
CREATE TABLE ic_empty (v vector(2));
CREATE INDEX ic_empty_idx ON ic_empty USING ivfflat (v) WITH (lists = 3);
SELECT * FROM ivfflat_check('ic_empty_idx');
INSERT INTO ic_empty VALUES ('[1,2]'), ('[3,4]'), (NULL);
SELECT * FROM ivfflat_check('ic_empty_idx');

-- not an ivfflat index
CREATE INDEX ic_btree ON ic (id);
SELECT * FROM ivfflat_check('ic_btree');
SELECT * FROM ivfflat_check('ic');

-- Corruption, made deterministically: row 1's vector [1.5,2.5,3.25] is
-- overwritten in the index file on disk with [101.5,102.5,103.25] (float4
-- little-endian bytes), and ALTER INDEX ... SET TABLESPACE copies the file
-- from disk into a new one, which is read from disk again (the old file's
-- pages in shared buffers are left behind).  The row now sits in the list
-- of the low cluster, nearer to the high cluster's centroid.
CREATE TABLE ic2 (id int, v vector(3));
INSERT INTO ic2 SELECT id, v FROM ic WHERE id <= 600 ORDER BY id;
CREATE INDEX ic2_idx ON ic2 USING ivfflat (v) WITH (lists = 2);
SELECT * FROM ivfflat_check('ic2_idx');
CHECKPOINT;
SELECT lo_from_bytea(0, overlay(f PLACING '\x0000cb420000cd420080ce42'::bytea
		FROM position('\x0000c03f0000204000005040'::bytea IN f))) AS lo
	FROM pg_read_binary_file(pg_relation_filepath('ic2_idx')) f \gset
SELECT lo_export(:lo, pg_relation_filepath('ic2_idx')) AS exported, lo_unlink(:lo) AS unlinked \gset
SET allow_in_place_tablespaces = on;
CREATE TABLESPACE ic_ts LOCATION '';
SET ignore_checksum_failure = on;
SET client_min_messages = error;
ALTER INDEX ic2_idx SET TABLESPACE ic_ts;
RESET client_min_messages;
RESET ignore_checksum_failure;
SELECT problem, regexp_replace(detail, '^row \(\d+,\d+\)', 'row (b,o)') AS detail
	FROM ivfflat_check('ic2_idx');
DROP INDEX ic2_idx;
DROP TABLESPACE ic_ts;
RESET allow_in_place_tablespaces;

DROP TABLE ic, ic2, ic_empty;

-- The build's nearest centroids (nearest.c) against the exact search that
-- ivfflat_check does: every row must be in the list of the first of its
-- nearest centroids by the opclass distance.  With at least 64 lists and 48
-- dimensions the l2 classes prune by prefix bounds first; these cover
-- dimensions that are not multiples of 16, halfvec, norms near 1e17 and
-- subnormal values (whose squares vanish in float4, so every distance ties
-- at 0), duplicate rows and centroids, and rows without clusters.
-- ivfflat.check_nearest also compares each row's list with an exact
-- search's, first of equals included (ivfflat_check accepts any of equals).
SET ivfflat.check_nearest = on;
CREATE TABLE icn (id int, v vector(100), h halfvec(100));
-- 4,000 rows around 70 centres, integral values: many exact ties in float
INSERT INTO icn SELECT i, a::vector, a::vector::halfvec
	FROM (SELECT i, ARRAY(SELECT ((i % 70) * 131 + d * 71) % 200 + (i * 37 + d * 13) % 7
						  FROM generate_series(1, 100) d) AS a
		  FROM generate_series(1, 4000) i) s;
CREATE INDEX icn_v ON icn USING ivfflat (v) WITH (lists = 80);
CREATE INDEX icn_h ON icn USING ivfflat (h halfvec_l2_ops) WITH (lists = 80);
CREATE INDEX icn_vq ON icn USING ivfflat (v) WITH (lists = 64, quantization = 'rabitq');
SELECT count(*) AS problems FROM ivfflat_check('icn_v');
SELECT count(*) AS problems FROM ivfflat_check('icn_h');
SELECT count(*) AS problems FROM ivfflat_check('icn_vq');
-- huge and subnormal norms, rows without clusters, 61 dimensions
CREATE TABLE icn2 (id int, v vector(61));
INSERT INTO icn2 SELECT i, ARRAY(SELECT ((i * 7919 + d * 104729) % 1000 - 500) * 1e14::float4
								FROM generate_series(1, 61) d)
	FROM generate_series(1, 3000) i;
CREATE INDEX icn2_idx ON icn2 USING ivfflat (v) WITH (lists = 70);
SELECT count(*) AS problems FROM ivfflat_check('icn2_idx');
-- norms whose squares overflow float4: searched exactly
UPDATE icn2 SET v = ARRAY(SELECT x * 100 FROM unnest(v::float4[]) x)::vector;
REINDEX INDEX icn2_idx;
SELECT count(*) AS problems FROM ivfflat_check('icn2_idx');
DROP INDEX icn2_idx;
TRUNCATE icn2;
INSERT INTO icn2 SELECT i, ARRAY(SELECT ((i % 90) * 13 + d * 7) % 50 * 1e-40::float4
								FROM generate_series(1, 61) d)
	FROM generate_series(1, 3000) i;
CREATE INDEX icn2_idx ON icn2 USING ivfflat (v) WITH (lists = 70);
SELECT count(*) AS problems FROM ivfflat_check('icn2_idx');
-- fewer rows than lists: one list per row, duplicate rows make duplicate
-- centroids, and each row goes to the first of them
DROP INDEX icn2_idx;
TRUNCATE icn2;
INSERT INTO icn2 SELECT i, ARRAY(SELECT (i % 50) * d FROM generate_series(1, 61) d)
	FROM generate_series(1, 90) i;
CREATE INDEX icn2_dup ON icn2 USING ivfflat (v) WITH (lists = 100);
SELECT count(*) AS problems FROM ivfflat_check('icn2_dup');
DROP TABLE icn, icn2;
RESET ivfflat.check_nearest;
