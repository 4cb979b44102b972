-- ivfflat with quantization = 'rabitq': options and their errors, exact
-- order of the re-ranked results for every supported operator class (vector
-- and halfvec, varied norms), inserts into an empty index, deletes and
-- VACUUM, iterative scans, ivfflat_check on quantized indexes.
SET client_min_messages = warning;

-- 400 random 24-dimensional vectors with norms from 0.1 to 10 (inner
-- product must not favour large norms by accident), 20 queries
SELECT setseed(0.29);
CREATE TABLE qv (id int PRIMARY KEY, v vector(24));
INSERT INTO qv
SELECT i, ARRAY(SELECT round(((random() * 2 - 1) * (0.1 + (i % 10)))::numeric, 4)::real
                FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 400) i;
CREATE TABLE qq (qid int, q vector(24));
INSERT INTO qq
SELECT i, ARRAY(SELECT round((random() * 2 - 1)::numeric, 4)::real
                FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 20) i;

SET enable_seqscan = off;
SET ivfflat.probes = 8;

-- options: recorded, and every bad value refused
CREATE INDEX qv_l2 ON qv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'rabitq');
SELECT reloptions FROM pg_class WHERE relname = 'qv_l2';
EXPLAIN (COSTS OFF) SELECT id FROM qv ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
CREATE INDEX ON qv USING ivfflat (v vector_l2_ops) WITH (quantization = 'opq');
CREATE INDEX ON qv USING ivfflat (v vector_l2_ops) WITH (quantization = '');
CREATE INDEX ON qv USING ivfflat (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 0);
CREATE INDEX ON qv USING ivfflat (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 9);
CREATE INDEX ON qv USING ivfflat (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 'four');
SET ivfflat.rerank_candidates = 0;
SET ivfflat.rerank_candidates = 1001;
SHOW ivfflat.rerank_candidates;
SELECT * FROM ivfflat_check('qv_l2');
-- the default, 0: rows are re-ranked in order of the lower bound RaBitQ's
-- error bound gives each, and returned once no row left can be nearer, so
-- the answers below are exact only if the bounds hold (a scan whose slack
-- were 0 would lose rows here, at low bits most)
RESET ivfflat.rerank_candidates;

-- l2: the index's top 10 is the exact top 10, in exact order, for every
-- query (all lists probed, re-ranked as the bound says); the distances are
-- the operator's
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT id, round((v <-> q)::numeric, 4) AS dist
FROM qv, (SELECT q FROM qq WHERE qid = 1) s ORDER BY v <-> q LIMIT 3;
-- the whole table in exact order, by the bound alone, and with every row
-- re-ranked before the first is returned (at least 1000: all 400).  The
-- bound holds with high probability (3 standard deviations), not always:
-- by it alone, one of the 20 orders swaps two rows at ranks 374 and 375
-- (1.6e-3 apart at distance 25.7)
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q) =
         ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0, id)) AS exact
FROM qq;
SET ivfflat.rerank_candidates = 1000;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q) =
         ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0, id)) AS exact
FROM qq;
-- at least 15 re-ranked first: still exact
SET ivfflat.rerank_candidates = 15;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
RESET ivfflat.rerank_candidates;
DROP INDEX qv_l2;

-- the same at every number of bits: the coarser the codes, the wider the
-- bounds and the more rows re-ranked, but the answers stay exact
DO $$
DECLARE
    b int;
    n int;
BEGIN
    FOR b IN 1..8 LOOP
        EXECUTE format('CREATE INDEX qv_b ON qv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = rabitq, bits = %s)', b);
        SELECT count(*) INTO n FROM qq
        WHERE ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q LIMIT 10) =
              ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0 LIMIT 10);
        SELECT n * 100 + count(*) INTO n FROM ivfflat_check('qv_b');
        RAISE WARNING 'bits %: % of 20 queries exact, % problems', b, n / 100, n % 100;
        DROP INDEX qv_b;
    END LOOP;
END $$;

-- inner product, on the varied norms
CREATE INDEX qv_ip ON qv USING ivfflat (v vector_ip_ops) WITH (lists = 8, quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <#> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <#> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT * FROM ivfflat_check('qv_ip');
DROP INDEX qv_ip;

-- cosine
CREATE INDEX qv_cos ON qv USING ivfflat (v vector_cosine_ops) WITH (lists = 8, quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <=> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <=> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT * FROM ivfflat_check('qv_cos');
DROP INDEX qv_cos;

-- halfvec, through an expression index (the scan evaluates the expression
-- for the exact distance)
CREATE INDEX qv_half ON qv USING ivfflat ((v::halfvec(24)) halfvec_l2_ops)
    WITH (lists = 8, quantization = 'rabitq', bits = 2);
EXPLAIN (COSTS OFF) SELECT id FROM qv ORDER BY v::halfvec(24) <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <-> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <-> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT * FROM ivfflat_check('qv_half');
DROP INDEX qv_half;
CREATE INDEX qv_half_ip ON qv USING ivfflat ((v::halfvec(24)) halfvec_ip_ops)
    WITH (lists = 8, quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <#> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <#> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_half_ip;
-- (one query of 20 is off: its 10th and 11th rows are 2.5e-6 apart, while
-- the scan's exact distances use the query scaled to unit length and
-- rounded to halfvec, the opclass's stored form, which moves them by up to
-- 6e-5: the index's order of the two is right by those distances; the
-- unquantized halfvec_cosine_ops and hnsw's re-ranking use the same query)
CREATE INDEX qv_half_cos ON qv USING ivfflat ((v::halfvec(24)) halfvec_cosine_ops)
    WITH (lists = 8, quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <=> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <=> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_half_cos;

-- other operator classes cannot be quantized
CREATE TABLE qs (id int, s sparsevec(24), b bit(24));
CREATE INDEX ON qs USING ivfflat (b bit_hamming_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON qs USING ivfflat (b bit_jaccard_ops) WITH (quantization = 'rabitq');
DROP TABLE qs;

-- an empty index gets its first list and dimensions from the first insert;
-- inserts, deletes and VACUUM keep the answers exact
CREATE TABLE qd (id int PRIMARY KEY, v vector);
CREATE INDEX qd_l2 ON qd USING ivfflat ((v::vector(24)) vector_l2_ops)
    WITH (lists = 4, quantization = 'rabitq', bits = 3);
INSERT INTO qd SELECT id, v FROM qv WHERE id <= 200;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qd ORDER BY v::vector(24) <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qd ORDER BY (v::vector(24) <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
-- a value of other dimensions is refused
INSERT INTO qd VALUES (1000, '[1,2,3]');
DELETE FROM qd WHERE id % 3 = 0;
VACUUM qd;
INSERT INTO qd SELECT id, v FROM qv WHERE id > 200 AND id % 3 <> 0;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qd ORDER BY v::vector(24) <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qd ORDER BY (v::vector(24) <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT * FROM ivfflat_check('qd_l2');

-- a rebuilt index: rows of 8 lists; one probe, then an iterative scan
-- under a filter still fills its LIMIT in exact order per batch
CREATE INDEX qv_it ON qv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'rabitq');
SET ivfflat.probes = 1;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM qv WHERE id % 10 = 0 ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 30) s;
RESET ivfflat.iterative_scan;
SET ivfflat.probes = 8;

-- a NULL query returns every row (distances NULL)
SELECT count(*) FROM (SELECT id FROM qv ORDER BY v <-> NULL) s;

DROP TABLE qd;
DROP TABLE qv;
DROP TABLE qq;

-- 16,000 dimensions: list items hold codes, and each centroid (64,008
-- bytes) is stored in 8 pieces over the centroid pages
CREATE TABLE hd (id int PRIMARY KEY, v vector(16000));
SELECT setseed(0.16);
INSERT INTO hd SELECT g.i, ARRAY(SELECT ((g.i % 3) * 0.5 + (random() - 0.5) * 0.2)::real
                                 FROM generate_series(1, 16000) WHERE g.i > 0)::vector
FROM generate_series(1, 90) g(i);
-- the default 4 bits (8,000 code bytes) fit a list page, 5 do not
CREATE INDEX ON hd USING ivfflat (v vector_l2_ops) WITH (lists = 3, quantization = 'rabitq', bits = 5);
CREATE INDEX hd_l2 ON hd USING ivfflat (v vector_l2_ops) WITH (lists = 3, quantization = 'rabitq');
SELECT * FROM ivfflat_check('hd_l2');
SET ivfflat.probes = 3;
-- every query's 10 nearest in exact order, as a sequential scan finds them
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hd ORDER BY v <-> q.v LIMIT 10) =
         ARRAY(SELECT id FROM hd ORDER BY (v <-> q.v) + 0, id LIMIT 10)) AS exact
FROM hd q WHERE q.id <= 12;
-- halfvec, PQ, cosine, built on an empty table: the first insert writes
-- the pieces of its centroid, later ones go to that list
CREATE TABLE hh (id int PRIMARY KEY, v halfvec(16000));
CREATE INDEX hh_pq ON hh USING ivfflat (v halfvec_cosine_ops) WITH (lists = 3, quantization = 'pq');
INSERT INTO hh SELECT id, v::halfvec FROM hd;
SELECT * FROM ivfflat_check('hh_pq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM hh ORDER BY v <=> q.v LIMIT 10) =
         ARRAY(SELECT id FROM hh ORDER BY (v <=> q.v) + 0, id LIMIT 10)) AS exact
FROM hh q WHERE q.id <= 12;
DELETE FROM hd WHERE id % 2 = 0;
VACUUM hd;
SELECT * FROM ivfflat_check('hd_l2');
SELECT count(*) FROM (SELECT id FROM hd ORDER BY v <-> (SELECT v FROM hd WHERE id = 1)) s;
RESET ivfflat.probes;
DROP TABLE hd;
DROP TABLE hh;
