-- halfvec_hnsw and bit indexes: every halfvec and bit hnsw operator class
-- builds, returns the exact order on a small table, serves only its own
-- operator, and passes amvalidate.
SET client_min_messages = warning;

-- 200 halfvecs of 8 small integers (exact halves) and 10 queries
SELECT setseed(0.37);
CREATE TABLE hh (id int PRIMARY KEY, v halfvec(8));
INSERT INTO hh
SELECT i, ARRAY(SELECT floor(random() * 41 - 20)::int FROM generate_series(1, 8) WHERE i > 0)::halfvec
FROM generate_series(1, 200) i;
CREATE TABLE hhq (qid int, q halfvec(8));
INSERT INTO hhq
SELECT i, ARRAY(SELECT floor(random() * 41 - 20)::int FROM generate_series(1, 8) WHERE i > 0)::halfvec
FROM generate_series(1, 10) i;

SET enable_seqscan = off;
SET hnsw.ef_search = 100;

-- For each operator class: the index's top 10 (ids, ties broken by the
-- index) has the same distances as the exact top 10.
CREATE INDEX hh_l2 ON hh USING hnsw (v halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <-> hhq.q FROM hh ORDER BY v <-> hhq.q LIMIT 10) =
         ARRAY(SELECT v <-> hhq.q FROM hh ORDER BY (v <-> hhq.q) + 0 LIMIT 10)) AS exact
FROM hhq;
SELECT id, v <-> '[1,2,3,4,5,6,7,8]' AS dist FROM hh ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 3;
SELECT id, v <-> '[1,2,3,4,5,6,7,8]' AS dist FROM hh ORDER BY (v <-> '[1,2,3,4,5,6,7,8]') + 0 LIMIT 3;
-- a vector query is cast to halfvec implicitly and still uses the index
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <-> '[1,2,3,4,5,6,7,8]'::vector LIMIT 10;
DROP INDEX hh_l2;

CREATE INDEX hh_ip ON hh USING hnsw (v halfvec_ip_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <#> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <#> hhq.q FROM hh ORDER BY v <#> hhq.q LIMIT 10) =
         ARRAY(SELECT v <#> hhq.q FROM hh ORDER BY (v <#> hhq.q) + 0 LIMIT 10)) AS exact
FROM hhq;
DROP INDEX hh_ip;

CREATE INDEX hh_cos ON hh USING hnsw (v halfvec_cosine_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;
-- stored vectors are normalised to half precision, so compare ids as sets
-- of the exact top 5 (no near-ties in these data)
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM (SELECT id FROM hh ORDER BY v <=> hhq.q LIMIT 5) s ORDER BY id) =
         ARRAY(SELECT id FROM (SELECT id FROM hh ORDER BY (v <=> hhq.q) + 0 LIMIT 5) s ORDER BY id)) AS exact
FROM hhq;
DROP INDEX hh_cos;

CREATE INDEX hh_l1 ON hh USING hnsw (v halfvec_l1_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <+> hhq.q FROM hh ORDER BY v <+> hhq.q LIMIT 10) =
         ARRAY(SELECT v <+> hhq.q FROM hh ORDER BY (v <+> hhq.q) + 0 LIMIT 10)) AS exact
FROM hhq;
-- inserts after the build, NULLs skipped, a distance the index does not serve
INSERT INTO hh VALUES (201, '[1,2,3,4,5,6,7,8]'), (202, NULL);
SELECT id, v <+> '[1,2,3,4,5,6,7,8]' AS dist FROM hh ORDER BY v <+> '[1,2,3,4,5,6,7,8]' LIMIT 1;
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
DROP INDEX hh_l1;

-- cosine does not index zero vectors
CREATE TABLE hhz (id int, v halfvec(2));
INSERT INTO hhz VALUES (1, '[1,0]'), (2, '[0,0]'), (3, '[0,1]'), (4, '[1,1]');
CREATE INDEX ON hhz USING hnsw (v halfvec_cosine_ops);
SELECT id FROM hhz ORDER BY v <=> '[1,0.25]' LIMIT 10;

-- halfvec dimensions past a page are refused (2 bytes each: about 3,800 fit)
CREATE TABLE hhbig (v halfvec(4000));
INSERT INTO hhbig SELECT array_fill(1::real, ARRAY[4000])::halfvec;
CREATE INDEX ON hhbig USING hnsw (v halfvec_l2_ops);
CREATE TABLE hhok (v halfvec(1500));
INSERT INTO hhok SELECT array_fill(1::real, ARRAY[1500])::halfvec;
CREATE INDEX ON hhok USING hnsw (v halfvec_l2_ops);
SELECT count(*) FROM (SELECT v FROM hhok ORDER BY v <-> array_fill(0::real, ARRAY[1500])::halfvec LIMIT 1) s;

-- bit: 200 random 64-bit strings, Hamming and Jaccard
CREATE TABLE hbit (id int PRIMARY KEY, b bit(64));
INSERT INTO hbit
SELECT i, (SELECT string_agg(CASE WHEN random() < 0.4 THEN '1' ELSE '0' END, '')
           FROM generate_series(1, 64) WHERE i > 0)::bit(64)
FROM generate_series(1, 200) i;
CREATE TABLE hbq (qid int, q bit(64));
INSERT INTO hbq
SELECT i, (SELECT string_agg(CASE WHEN random() < 0.4 THEN '1' ELSE '0' END, '')
           FROM generate_series(1, 64) WHERE i > 0)::bit(64)
FROM generate_series(1, 10) i;

CREATE INDEX hbit_ham ON hbit USING hnsw (b bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hbit ORDER BY b <~> (SELECT q FROM hbq WHERE qid = 1) LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT b <~> hbq.q FROM hbit ORDER BY b <~> hbq.q LIMIT 10) =
         ARRAY(SELECT b <~> hbq.q FROM hbit ORDER BY (b <~> hbq.q) + 0 LIMIT 10)) AS exact
FROM hbq;
DROP INDEX hbit_ham;

CREATE INDEX hbit_jac ON hbit USING hnsw (b bit_jaccard_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hbit ORDER BY b <%> (SELECT q FROM hbq WHERE qid = 1) LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT b <%> hbq.q FROM hbit ORDER BY b <%> hbq.q LIMIT 10) =
         ARRAY(SELECT b <%> hbq.q FROM hbit ORDER BY (b <%> hbq.q) + 0 LIMIT 10)) AS exact
FROM hbq;
-- a query of another length is an error
SELECT id FROM hbit ORDER BY b <%> B'101' LIMIT 1;
DROP INDEX hbit_jac;

-- binary quantization with re-ranking: an expression index on a halfvec table
CREATE INDEX hh_bq ON hh USING hnsw ((binary_quantize(v)::bit(8)) bit_hamming_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hh ORDER BY binary_quantize(v)::bit(8) <~> B'11110000' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM hh ORDER BY binary_quantize(v)::bit(8) <~> B'11110000' LIMIT 5) s;

-- operator classes pass amvalidate
SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'hnsw' AND (opcname LIKE 'halfvec%' OR opcname LIKE 'bit%') ORDER BY opcname;

DROP TABLE hh, hhq, hhz, hhbig, hhok, hbit, hbq;
