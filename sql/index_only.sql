-- index_only: the access methods return no column, so the planner uses an
-- index-only scan only when the query needs no column of the index; the
-- scan still hands the executor a (NULL) tuple per row, and every row is
-- counted once (rows repeat every 105: duplicate chains too).
CREATE TABLE io (id int, v vector(3));
INSERT INTO io SELECT i, ARRAY[i % 5, i % 7, i % 3] FROM generate_series(1, 500) i;
CREATE INDEX io_hnsw ON io USING hnsw (v);
VACUUM ANALYZE io;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM io;
SELECT count(*) FROM io;
DROP INDEX io_hnsw;
CREATE INDEX io_ivfflat ON io USING ivfflat (v) WITH (lists = 4);
VACUUM ANALYZE io;
EXPLAIN (COSTS OFF) SELECT count(*) FROM io;
SELECT count(*) FROM io;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP TABLE io;
