-- hnsw with quantization = 'rabitq': options and their errors, exact order of
-- the re-ranked results for every supported operator class (vector and
-- halfvec, varied norms), inserts and VACUUM, expression indexes, HOT
-- chains and temporary tables in re-ranking, vectors near the ends of
-- float's range, 16,000 dimensions.
SET client_min_messages = warning;

-- 400 random 24-dimensional vectors with norms from 0.1 to 10 (inner
-- product must not favour large norms by accident), 20 queries
SELECT setseed(0.17);
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
SET hnsw.ef_search = 200;
RESET hnsw.rerank_candidates;  -- the default: as many as the error bound needs

-- options: recorded, and every bad value refused
CREATE INDEX qv_l2 ON qv USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
SELECT reloptions FROM pg_class WHERE relname = 'qv_l2';
EXPLAIN (COSTS OFF) SELECT id FROM qv ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
CREATE INDEX ON qv USING hnsw (v vector_l2_ops) WITH (quantization = 'pq');
CREATE INDEX ON qv USING hnsw (v vector_l2_ops) WITH (quantization = '');
CREATE INDEX ON qv USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 0);
CREATE INDEX ON qv USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 9);
CREATE INDEX ON qv USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 'four');
CREATE INDEX ON qv USING hnsw (v vector_l1_ops) WITH (quantization = 'rabitq');
SET hnsw.rerank_candidates = -1;
SET hnsw.rerank_candidates = 1001;

-- l2: the index's top 10 is the exact top 10, in exact order, for every
-- query; the distances are the operator's
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
SELECT id, round((v <-> q)::numeric, 4) AS dist
FROM qv, (SELECT q FROM qq WHERE qid = 1) s ORDER BY v <-> q LIMIT 3;
DROP INDEX qv_l2;

-- the same at every number of bits
DO $$
DECLARE
    b int;
    n int;
BEGIN
    FOR b IN 1..8 LOOP
        EXECUTE format('CREATE INDEX qv_b ON qv USING hnsw (v vector_l2_ops) WITH (quantization = rabitq, bits = %s)', b);
        SELECT count(*) INTO n FROM qq
        WHERE ARRAY(SELECT id FROM qv ORDER BY v <-> qq.q LIMIT 10) =
              ARRAY(SELECT id FROM qv ORDER BY (v <-> qq.q) + 0 LIMIT 10);
        RAISE WARNING 'bits %: % of 20 queries exact', b, n;
        DROP INDEX qv_b;
    END LOOP;
END $$;

-- inner product, on the varied norms
CREATE INDEX qv_ip ON qv USING hnsw (v vector_ip_ops) WITH (quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <#> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <#> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_ip;

-- cosine
CREATE INDEX qv_cos ON qv USING hnsw (v vector_cosine_ops) WITH (quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v <=> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v <=> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_cos;

-- halfvec, through an expression index (the scan evaluates the expression
-- for the exact distance)
CREATE INDEX qv_half ON qv USING hnsw ((v::halfvec(24)) halfvec_l2_ops)
    WITH (quantization = 'rabitq', bits = 2);
EXPLAIN (COSTS OFF) SELECT id FROM qv ORDER BY v::halfvec(24) <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <-> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <-> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_half;
CREATE INDEX qv_half_ip ON qv USING hnsw ((v::halfvec(24)) halfvec_ip_ops)
    WITH (quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <#> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <#> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_half_ip;
CREATE INDEX qv_half_cos ON qv USING hnsw ((v::halfvec(24)) halfvec_cosine_ops)
    WITH (quantization = 'rabitq');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qv ORDER BY v::halfvec(24) <=> qq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM qv ORDER BY (v::halfvec(24) <=> qq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM qq;
DROP INDEX qv_half_cos;

-- other operator classes cannot be quantized
CREATE TABLE qs (id int, s sparsevec(24), b bit(24));
CREATE INDEX ON qs USING hnsw (s sparsevec_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX ON qs USING hnsw (b bit_hamming_ops) WITH (quantization = 'rabitq');
DROP TABLE qs;

-- an empty index takes its dimensions from the first insert; inserts,
-- exact duplicates, deletes and VACUUM keep the answers exact
CREATE TABLE qd (id int PRIMARY KEY, v vector);
CREATE INDEX qd_l2 ON qd USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 3);
INSERT INTO qd SELECT id, v FROM qv;
INSERT INTO qd SELECT id + 1000, v FROM qv WHERE id <= 50;
INSERT INTO qd VALUES (5000, '[1,2,3]');
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qd ORDER BY v <-> qq.q, id LIMIT 10) =
         ARRAY(SELECT id FROM qd ORDER BY (v <-> qq.q) + 0, id LIMIT 10)) AS exact
FROM qq;
-- a row and its duplicate come back together, at distance 0
SELECT id, v <-> (SELECT v FROM qv WHERE id = 7) AS dist
FROM qd ORDER BY v <-> (SELECT v FROM qv WHERE id = 7) LIMIT 2;
DELETE FROM qd WHERE id % 3 = 0;
VACUUM qd;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qd ORDER BY v <-> qq.q, id LIMIT 10) =
         ARRAY(SELECT id FROM qd ORDER BY (v <-> qq.q) + 0, id LIMIT 10)) AS exact
FROM qq;
SELECT * FROM hnsw_check('qd_l2');
-- a filter with an iterative scan still fills its LIMIT
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.ef_search = 10;
SET hnsw.rerank_candidates = 10;
SELECT count(*) FROM (SELECT id FROM qd WHERE id % 7 = 1 ORDER BY v <-> (SELECT q FROM qq WHERE qid = 2) LIMIT 20) s;
RESET hnsw.iterative_scan;
SET hnsw.ef_search = 200;
RESET hnsw.rerank_candidates;  -- the default: as many as the error bound needs
-- rows the transaction cannot see are not returned
BEGIN;
DELETE FROM qd WHERE id = (SELECT id FROM qd ORDER BY (v <-> (SELECT q FROM qq WHERE qid = 3)) + 0 LIMIT 1);
SELECT count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qd ORDER BY v <-> qq.q, id LIMIT 10) =
         ARRAY(SELECT id FROM qd ORDER BY (v <-> qq.q) + 0, id LIMIT 10)) AS exact
FROM qq WHERE qid = 3;
ROLLBACK;
DROP TABLE qd;

-- re-ranking reads each row's newest version: HOT-updated rows (only a
-- column the index does not hold changed: the index still points at the
-- chain's root) and a row whose vector changed; and a temporary table's
-- rows, in local buffers, the same way
CREATE TABLE qu (id int PRIMARY KEY, v vector(24), note text) WITH (fillfactor = 50);
INSERT INTO qu SELECT id, v, '' FROM qv;
CREATE INDEX qu_l2 ON qu USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
BEGIN;
UPDATE qu SET note = 'updated' WHERE id % 4 = 0;
SELECT pg_stat_get_xact_tuples_hot_updated('qu'::regclass) > 0 AS hot_updates;
UPDATE qu SET v = (SELECT q FROM qq WHERE qid = 5) WHERE id = 7;
SELECT id, note FROM qu ORDER BY v <-> (SELECT v FROM qv WHERE id = 8) LIMIT 1;
SELECT id, v <-> (SELECT q FROM qq WHERE qid = 5) AS dist
FROM qu ORDER BY v <-> (SELECT q FROM qq WHERE qid = 5) LIMIT 1;
SELECT count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qu ORDER BY v <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qu ORDER BY (v <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
COMMIT;
DROP TABLE qu;
CREATE TEMP TABLE qt AS SELECT id, v FROM qv;
CREATE INDEX qt_l2 ON qt USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
SELECT count(*) FILTER (WHERE
         ARRAY(SELECT id FROM qt ORDER BY v <-> qq.q LIMIT 10) =
         ARRAY(SELECT id FROM qt ORDER BY (v <-> qq.q) + 0 LIMIT 10)) AS exact
FROM qq;
DROP TABLE qt;

-- vectors near the ends of float's range: very short ones (every coordinate
-- below about 1e-35, where the level search's grid once never ended) are
-- indexed and found; ones whose rotation overflows are refused
CREATE TABLE qe (id int, v vector(8));
CREATE INDEX qe_l2 ON qe USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX qe_iv ON qe USING ivfflat (v vector_l2_ops) WITH (lists = 1, quantization = 'rabitq');
INSERT INTO qe VALUES (1, '[1e-40,2e-40,0,0,0,0,0,1e-40]'), (2, '[1,2,3,4,5,6,7,8]'),
    (3, '[1e-44,0,0,0,0,0,0,0]'), (4, '[1e-30,0,0,0,0,0,0,-1e-30]');
-- (the three short ones tie at float distance 0: compared as a set)
SELECT array_agg(id ORDER BY id) FROM
    (SELECT id FROM qe ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 3) s;
SELECT id FROM qe ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 1;
SELECT * FROM hnsw_check('qe_l2');
SELECT * FROM ivfflat_check('qe_iv');
INSERT INTO qe VALUES (5, '[3e38,3e38,3e38,3e38,3e38,3e38,3e38,3e38]');
DROP TABLE qe;

-- 16,000 dimensions: indexable with codes of up to 3 bits at m = 16; 4 bits
-- do not fit a page and say how many would
CREATE TABLE qh (id int, v vector(16000));
INSERT INTO qh
SELECT i, ARRAY(SELECT (((i * 7919 + j * 104729) % 1000) / 1000.0)::real
                FROM generate_series(1, 16000) j)::vector
FROM generate_series(1, 12) i;
CREATE INDEX qh_l2 ON qh USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq', bits = 3);
SELECT id FROM qh ORDER BY v <-> (SELECT v FROM qh WHERE id = 5) LIMIT 3;
SELECT * FROM hnsw_check('qh_l2');
DROP INDEX qh_l2;
CREATE INDEX qh_l2 ON qh USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX qh_cos ON qh USING hnsw ((v::halfvec(16000)) halfvec_cosine_ops)
    WITH (quantization = 'rabitq', bits = 2);
SELECT id FROM qh ORDER BY v::halfvec(16000) <=> (SELECT v FROM qh WHERE id = 5)::halfvec(16000) LIMIT 3;
-- unquantized, the same vectors do not fit
CREATE INDEX ON qh USING hnsw (v vector_l2_ops);
DROP TABLE qh;

-- the largest centre the metapage holds: 4,046 dimensions (binary16
-- coordinates after the metapage's fields, up to the special area); one
-- dimension more and the codes are taken about the origin.  Rows far from
-- the origin (coordinates in [0, 1)), so the build centres them where it
-- can.  Either way every code is the one hnsw_check makes from its row, and
-- the order is exact
-- row i of dims dimensions, coordinates in [0, 1)
CREATE FUNCTION qc_row(i int, dims int) RETURNS vector LANGUAGE sql AS $$
    SELECT ARRAY(SELECT (((i * 7919 + j * 104729) % 1000) / 1000.0)::real
                 FROM generate_series(1, dims) j)::vector $$;
CREATE TABLE qc (id int, v vector);
INSERT INTO qc SELECT i, qc_row(i, 4046) FROM generate_series(1, 12) i;
CREATE INDEX qc_l2 ON qc USING hnsw ((v::vector(4046)) vector_l2_ops) WITH (quantization = 'rabitq');
CREATE INDEX qc_ip ON qc USING hnsw ((v::vector(4046)) vector_ip_ops) WITH (quantization = 'rabitq');
SELECT * FROM hnsw_check('qc_l2');
SELECT * FROM hnsw_check('qc_ip');
SELECT array_agg(id ORDER BY d) AS l2 FROM
    (SELECT id, v::vector(4046) <-> (SELECT v FROM qc WHERE id = 5)::vector(4046) AS d FROM qc
     ORDER BY v::vector(4046) <-> (SELECT v FROM qc WHERE id = 5)::vector(4046) LIMIT 5) s;
SELECT array_agg(id ORDER BY d) AS ip FROM
    (SELECT id, v::vector(4046) <#> (SELECT v FROM qc WHERE id = 5)::vector(4046) AS d FROM qc
     ORDER BY v::vector(4046) <#> (SELECT v FROM qc WHERE id = 5)::vector(4046) LIMIT 5) s;
SET enable_indexscan = off;
SELECT array_agg(id ORDER BY d) AS l2 FROM
    (SELECT id, v::vector(4046) <-> (SELECT v FROM qc WHERE id = 5)::vector(4046) AS d FROM qc
     ORDER BY v::vector(4046) <-> (SELECT v FROM qc WHERE id = 5)::vector(4046) LIMIT 5) s;
SELECT array_agg(id ORDER BY d) AS ip FROM
    (SELECT id, v::vector(4046) <#> (SELECT v FROM qc WHERE id = 5)::vector(4046) AS d FROM qc
     ORDER BY v::vector(4046) <#> (SELECT v FROM qc WHERE id = 5)::vector(4046) LIMIT 5) s;
RESET enable_indexscan;
DROP TABLE qc;
CREATE TABLE qc (id int, v vector(4047));
INSERT INTO qc SELECT i, qc_row(i, 4047) FROM generate_series(1, 12) i;
CREATE INDEX qc_l2 ON qc USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
SELECT * FROM hnsw_check('qc_l2');
SELECT id FROM qc ORDER BY v <-> (SELECT v FROM qc WHERE id = 5) LIMIT 5;
DROP TABLE qc;
DROP FUNCTION qc_row;

-- a quantized graph that outgrows maintenance_work_mem: the codes made in
-- memory (the build's searches filter on them) are written out with the
-- graph, the rest of the rows inserted on disk, with a NOTICE; every row is
-- then its own nearest neighbour, in exact order
SET client_min_messages = notice;
SELECT setseed(0.25);
CREATE TABLE qs (id int PRIMARY KEY, v vector(64));
INSERT INTO qs
SELECT i, ARRAY(SELECT random()::real FROM generate_series(1, 64) WHERE i > 0)::vector
FROM generate_series(1, 3000) i;
ANALYZE qs;
SET maintenance_work_mem = '1MB';
CREATE INDEX qs_idx ON qs USING hnsw (v) WITH (quantization = 'rabitq');
RESET maintenance_work_mem;
SET client_min_messages = warning;
SELECT * FROM hnsw_check('qs_idx');
SELECT count(*) AS rows,
       count(*) FILTER (WHERE (SELECT q2.id FROM qs q2 ORDER BY q2.v <-> q1.v LIMIT 1) = q1.id) AS found
FROM qs q1;
DROP TABLE qs;

DROP TABLE qv, qq;
