-- ivfflat with quantization = 'pq' (product quantization, IVFADC): options
-- and their errors, exact order of the re-ranked results for every supported
-- operator class (vector and halfvec, varied norms), pq_m at its extremes,
-- inserts into an index built empty, deletes and VACUUM, iterative scans,
-- ivfflat_check (codebook pages, codes against the heap rows).
SET client_min_messages = warning;

-- 400 random 24-dimensional vectors with norms from 0.1 to 10, 20 queries
SELECT setseed(0.31);
CREATE TABLE pv (id int PRIMARY KEY, v vector(24));
INSERT INTO pv
SELECT i, ARRAY(SELECT round(((random() * 2 - 1) * (0.1 + (i % 10)))::numeric, 4)::real
                FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 400) i;
CREATE TABLE pq (qid int, q vector(24));
INSERT INTO pq
SELECT i, ARRAY(SELECT round((random() * 2 - 1)::numeric, 4)::real
                FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 20) i;

SET enable_seqscan = off;
SET ivfflat.probes = 8;

-- options: recorded, and every bad value refused; pq_m must divide the
-- dimensions (the hint names the default: subvectors nearest 8, here 3
-- subspaces of 8)
CREATE INDEX pv_l2 ON pv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT reloptions FROM pg_class WHERE relname = 'pv_l2';
EXPLAIN (COSTS OFF) SELECT id FROM pv ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
CREATE INDEX ON pv USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq', pq_m = 5);
CREATE INDEX ON pv USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq', pq_m = 48);
CREATE INDEX ON pv USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq', pq_m = -1);
CREATE INDEX ON pv USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq', pq_m = 8001);
CREATE INDEX ON pv USING ivfflat (v vector_l2_ops) WITH (quantization = 'pq', pq_m = 'six');
SELECT * FROM ivfflat_check('pv_l2');
-- the index holds codes of 6 bytes and a 4-byte error bound, and the
-- codebooks (24 * 256 floats and 2 more: 4 pages)
SELECT pg_relation_size('pv_l2') / 8192 AS pages;

-- l2: the index's top 10 is the exact top 10, in exact order, for every
-- query (all lists probed, rows re-ranked in order of their lower bounds,
-- each code's estimate less its error); the distances are the operator's
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v <-> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pv ORDER BY (v <-> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT id, round((v <-> q)::numeric, 4) AS dist
FROM pv, (SELECT q FROM pq WHERE qid = 1) s ORDER BY v <-> q LIMIT 3;
-- with the whole table as the LIMIT, and with every row re-ranked at once:
-- the whole table in exact order
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v <-> pq.q) =
         ARRAY(SELECT id FROM pv ORDER BY (v <-> pq.q) + 0, id)) AS exact
FROM pq;
SET ivfflat.rerank_candidates = 1000;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v <-> pq.q) =
         ARRAY(SELECT id FROM pv ORDER BY (v <-> pq.q) + 0, id)) AS exact
FROM pq;
RESET ivfflat.rerank_candidates;
DROP INDEX pv_l2;

-- pq_m from one subspace of all 24 coordinates to 24 of one, and the
-- default (0): every query exact, but for one subspace (256 codewords for
-- 24-dimensional residuals estimate coarsely: 19 of 20 here)
DO $$
DECLARE
    m int;
    n int;
BEGIN
    FOREACH m IN ARRAY ARRAY[0, 1, 2, 3, 4, 8, 12, 24] LOOP
        EXECUTE format('CREATE INDEX pv_m ON pv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = pq, pq_m = %s)', m);
        SELECT count(*) INTO n FROM pq
        WHERE ARRAY(SELECT id FROM pv ORDER BY v <-> pq.q LIMIT 10) =
              ARRAY(SELECT id FROM pv ORDER BY (v <-> pq.q) + 0 LIMIT 10);
        RAISE WARNING 'pq_m %: exact: %, problems: %', m,
            n = 20 OR (m = 1 AND n >= 18), (SELECT count(*) FROM ivfflat_check('pv_m'));
        DROP INDEX pv_m;
    END LOOP;
END $$;

-- inner product, on the varied norms
CREATE INDEX pv_ip ON pv USING ivfflat (v vector_ip_ops) WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v <#> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pv ORDER BY (v <#> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT * FROM ivfflat_check('pv_ip');
DROP INDEX pv_ip;

-- cosine
CREATE INDEX pv_cos ON pv USING ivfflat (v vector_cosine_ops) WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v <=> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pv ORDER BY (v <=> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT * FROM ivfflat_check('pv_cos');
DROP INDEX pv_cos;

-- halfvec, through expression indexes
CREATE INDEX pv_half ON pv USING ivfflat ((v::halfvec(24)) halfvec_l2_ops)
    WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v::halfvec(24) <-> pq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM pv ORDER BY (v::halfvec(24) <-> pq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT * FROM ivfflat_check('pv_half');
DROP INDEX pv_half;
CREATE INDEX pv_half_ip ON pv USING ivfflat ((v::halfvec(24)) halfvec_ip_ops)
    WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pv ORDER BY v::halfvec(24) <#> pq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT id FROM pv ORDER BY (v::halfvec(24) <#> pq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM pq;
DROP INDEX pv_half_ip;
-- (the index ranks by the distance of the stored forms, normalised to
-- halfvec precision, which can swap rows whose cosine distances differ by
-- less than 1e-4 (query 11: rows 180 and 292); so distances are compared to
-- 3 decimals)
CREATE INDEX pv_half_cos ON pv USING ivfflat ((v::halfvec(24)) halfvec_cosine_ops)
    WITH (lists = 8, quantization = 'pq', pq_m = 6);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT round((v::halfvec(24) <=> pq.q::halfvec(24))::numeric, 3) FROM pv
               ORDER BY v::halfvec(24) <=> pq.q::halfvec(24) LIMIT 10) =
         ARRAY(SELECT round((v::halfvec(24) <=> pq.q::halfvec(24))::numeric, 3) FROM pv
               ORDER BY (v::halfvec(24) <=> pq.q::halfvec(24)) + 0 LIMIT 10)) AS exact
FROM pq;
DROP INDEX pv_half_cos;

-- other operator classes cannot be quantized
CREATE TABLE ps (id int, b bit(24));
CREATE INDEX ON ps USING ivfflat (b bit_hamming_ops) WITH (quantization = 'pq');
DROP TABLE ps;

-- an index built on no rows has no codebooks (all zero: every code of a
-- list estimates alike, and its error is the whole residual) until
-- REINDEX, yet its lower bounds keep the answers exact; a pq_m that does
-- not divide the dimensions is refused at the first insert
CREATE TABLE pd (id int PRIMARY KEY, v vector);
CREATE INDEX pd_bad ON pd USING ivfflat ((v::vector(24)) vector_l2_ops)
    WITH (lists = 4, quantization = 'pq', pq_m = 7);
INSERT INTO pd SELECT id, v FROM pv WHERE id <= 10;
DROP INDEX pd_bad;
CREATE INDEX pd_l2 ON pd USING ivfflat ((v::vector(24)) vector_l2_ops)
    WITH (lists = 4, quantization = 'pq', pq_m = 6);
INSERT INTO pd SELECT id, v FROM pv WHERE id <= 200;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pd ORDER BY v::vector(24) <-> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pd ORDER BY (v::vector(24) <-> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT * FROM ivfflat_check('pd_l2');
-- REINDEX trains codebooks; inserts, deletes and VACUUM keep answers exact
REINDEX INDEX pd_l2;
DELETE FROM pd WHERE id % 3 = 0;
VACUUM pd;
INSERT INTO pd SELECT id, v FROM pv WHERE id > 200 AND id % 3 <> 0;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pd ORDER BY v::vector(24) <-> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pd ORDER BY (v::vector(24) <-> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT * FROM ivfflat_check('pd_l2');

-- one probe, then an iterative scan under a filter still fills its LIMIT
CREATE INDEX pv_it ON pv USING ivfflat (v vector_l2_ops) WITH (lists = 8, quantization = 'pq');
SET ivfflat.probes = 1;
SET ivfflat.iterative_scan = relaxed_order;
SELECT count(*) FROM (SELECT id FROM pv WHERE id % 10 = 0 ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 30) s;
RESET ivfflat.iterative_scan;
SET ivfflat.probes = 8;

-- a NULL query returns every row (distances NULL)
SELECT count(*) FROM (SELECT id FROM pv ORDER BY v <-> NULL) s;

-- a query over 10 partitions, each with its own PQ index, in one
-- transaction: more codebooks than the backend's cache holds (8), so
-- entries are pushed out and swapped back in while the same transaction
-- still uses them; every answer stays exact
CREATE TABLE pp (id int, v vector(24)) PARTITION BY HASH (id);
SELECT format('CREATE TABLE pp_%s PARTITION OF pp FOR VALUES WITH (MODULUS 10, REMAINDER %s)', r, r)
FROM generate_series(0, 9) r \gexec
INSERT INTO pp SELECT id, v FROM pv;
CREATE INDEX ON pp USING ivfflat (v vector_l2_ops) WITH (lists = 2, quantization = 'pq', pq_m = 6);
EXPLAIN (COSTS OFF) SELECT id FROM pp ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24]' LIMIT 10;
BEGIN;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pp ORDER BY v <-> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pp ORDER BY (v <-> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM pp ORDER BY v <-> pq.q LIMIT 10) =
         ARRAY(SELECT id FROM pp ORDER BY (v <-> pq.q) + 0 LIMIT 10)) AS exact
FROM pq;
COMMIT;
DROP TABLE pp;

DROP TABLE pd;
DROP TABLE pv;
DROP TABLE pq;
