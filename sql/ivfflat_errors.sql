-- ivfflat: every error path of the access method's options, settings and input.
CREATE TABLE ix (id int, v vector(3));
INSERT INTO ix VALUES (1, '[1,2,3]'), (2, '[4,5,6]');

-- index options out of range
CREATE INDEX ON ix USING ivfflat (v) WITH (lists = 0);
CREATE INDEX ON ix USING ivfflat (v) WITH (lists = 32769);
CREATE INDEX ON ix USING ivfflat (v) WITH (lists = 'many');
CREATE INDEX ON ix USING ivfflat (v) WITH (m = 16);
-- ivfflat indexes one column, orders only
CREATE INDEX ON ix USING ivfflat (v, id);
CREATE INDEX ON ix USING ivfflat (id);
CREATE UNIQUE INDEX ON ix USING ivfflat (v);
-- the l1 distance has no ivfflat operator class
CREATE INDEX ON ix USING ivfflat (v vector_l1_ops);

-- settings out of range
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SET ivfflat.probes = 'x';
SET ivfflat.max_probes = 0;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.no_such_setting = 1;

-- a query of other dimensions
CREATE INDEX ix_idx ON ix USING ivfflat (v) WITH (lists = 1);
SET enable_seqscan = off;
SELECT id FROM ix ORDER BY v <-> '[1,2]' LIMIT 1;
-- a row of other dimensions cannot reach the index
INSERT INTO ix VALUES (3, '[1,2]');

-- vectors too large for an index page
CREATE TABLE ibig (v vector(3000));
INSERT INTO ibig SELECT array_fill(1, ARRAY[3000])::real[]::vector;
CREATE INDEX ON ibig USING ivfflat (v) WITH (lists = 1);
-- but an empty table builds, and the first insert says why it cannot
CREATE TABLE ibig2 (v vector(3000));
SET client_min_messages = warning;
CREATE INDEX ON ibig2 USING ivfflat (v) WITH (lists = 1);
RESET client_min_messages;
INSERT INTO ibig2 SELECT array_fill(1, ARRAY[3000])::real[]::vector;

-- bit strings too large: no hint of quantization, which takes no bit
CREATE TABLE ibit (b bit(70000));
INSERT INTO ibit SELECT repeat('1', 70000)::bit(70000);
CREATE INDEX ON ibit USING ivfflat (b bit_hamming_ops) WITH (lists = 1);
DROP TABLE ibit;

-- k-means over more lists x dimensions than maintenance_work_mem holds
CREATE TABLE imem (v vector(1000));
INSERT INTO imem SELECT array_fill(i % 97, ARRAY[1000])::real[]::vector FROM generate_series(1, 300) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON imem USING ivfflat (v) WITH (lists = 200);
RESET maintenance_work_mem;
-- with the default 64 MB it builds
CREATE INDEX ON imem USING ivfflat (v) WITH (lists = 200);
-- and with 1 MB, lists beyond the rows cost nothing (a list per row)
SET maintenance_work_mem = '1MB';
CREATE TABLE imem2 (v vector(1000));
INSERT INTO imem2 SELECT array_fill(i, ARRAY[1000])::real[]::vector FROM generate_series(1, 3) i;
SET client_min_messages = warning;
CREATE INDEX ON imem2 USING ivfflat (v) WITH (lists = 1000);
RESET client_min_messages;
RESET maintenance_work_mem;

DROP TABLE ix, ibig, ibig2, imem, imem2;
