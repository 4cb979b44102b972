-- hnsw: every error path of the access method's options, settings and input.
CREATE TABLE hx (id int, v vector(3));
INSERT INTO hx VALUES (1, '[1,2,3]'), (2, '[4,5,6]');

-- index options out of range
CREATE INDEX ON hx USING hnsw (v) WITH (m = 1);
CREATE INDEX ON hx USING hnsw (v) WITH (m = 101);
CREATE INDEX ON hx USING hnsw (v) WITH (ef_construction = 3);
CREATE INDEX ON hx USING hnsw (v) WITH (ef_construction = 1001);
CREATE INDEX ON hx USING hnsw (v) WITH (m = 40, ef_construction = 64);
CREATE INDEX ON hx USING hnsw (v) WITH (m = 'many');
CREATE INDEX ON hx USING hnsw (v) WITH (lists = 10);
-- hnsw indexes one column, orders only
CREATE INDEX ON hx USING hnsw (v, id);
CREATE INDEX ON hx USING hnsw (id);
CREATE UNIQUE INDEX ON hx USING hnsw (v);

-- settings out of range
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SET hnsw.ef_search = 'x';
SET hnsw.layer1_ef = 0;
SET hnsw.layer1_ef = 1001;
SET hnsw.no_such_setting = 1;

-- a query of other dimensions
CREATE INDEX hx_idx ON hx USING hnsw (v);
SET enable_seqscan = off;
SELECT id FROM hx ORDER BY v <-> '[1,2]' LIMIT 1;
-- a row of other dimensions cannot reach the index
INSERT INTO hx VALUES (3, '[1,2]');

-- vectors too large for an index page
CREATE TABLE hbig (v vector(3000));
INSERT INTO hbig SELECT array_fill(1, ARRAY[3000])::real[]::vector;
CREATE INDEX ON hbig USING hnsw (v);
-- but an empty table builds, and the first insert says why it cannot
CREATE TABLE hbig2 (v vector(3000));
CREATE INDEX ON hbig2 USING hnsw (v);
INSERT INTO hbig2 SELECT array_fill(1, ARRAY[3000])::real[]::vector;

DROP TABLE hx, hbig, hbig2;

-- hnsw_check accepts only hnsw indexes
CREATE TABLE hc (id int PRIMARY KEY, v vector(2));
SELECT * FROM hnsw_check('hc_pkey');
SELECT * FROM hnsw_check('hc');
DROP TABLE hc;
