-- ivfflat on halfvec: every halfvec ivfflat operator class builds (k-means
-- on half-precision values), returns the exact order when all lists are
-- probed, finds rows inserted after the build, serves only its own
-- operator, and passes amvalidate.
SET client_min_messages = warning;

-- 1000 halfvecs of 8 small integers (exact halves) and 10 queries
SELECT setseed(0.41);
CREATE TABLE ih (id int PRIMARY KEY, v halfvec(8));
INSERT INTO ih
SELECT i, ARRAY(SELECT floor(random() * 41 - 20)::int FROM generate_series(1, 8) WHERE i > 0)::halfvec
FROM generate_series(1, 1000) i;
CREATE TABLE ihq (qid int, q halfvec(8));
INSERT INTO ihq
SELECT i, ARRAY(SELECT floor(random() * 41 - 20)::int FROM generate_series(1, 8) WHERE i > 0)::halfvec
FROM generate_series(1, 10) i;

SET enable_seqscan = off;
SET ivfflat.probes = 10;

-- For each operator class, probing every list: the index's top 10 has the
-- same distances as the exact top 10 (ids may differ among ties).
CREATE INDEX ih_l2 ON ih USING ivfflat (v halfvec_l2_ops) WITH (lists = 10);
EXPLAIN (COSTS OFF) SELECT id FROM ih ORDER BY v <-> '[1,2,3,4,5,6,7,8]' LIMIT 10;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <-> ihq.q FROM ih ORDER BY v <-> ihq.q LIMIT 10) =
         ARRAY(SELECT v <-> ihq.q FROM ih ORDER BY (v <-> ihq.q) + 0 LIMIT 10)) AS exact
FROM ihq;
-- a distance the index does not serve is not planned on it
EXPLAIN (COSTS OFF) SELECT id FROM ih ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 10;
-- rows inserted after the build are found by their own vector
INSERT INTO ih
SELECT i, ARRAY(SELECT floor(random() * 41 - 20)::int + 0.5 FROM generate_series(1, 8) WHERE i > 0)::halfvec
FROM generate_series(1001, 1500) i;
SELECT count(*) AS inserted,
       count(*) FILTER (WHERE (SELECT i2.v <-> i1.v FROM ih i2 ORDER BY i2.v <-> i1.v LIMIT 1) = 0) AS found
FROM ih i1 WHERE id > 1000;
DROP INDEX ih_l2;

CREATE INDEX ih_ip ON ih USING ivfflat (v halfvec_ip_ops) WITH (lists = 10);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT v <#> ihq.q FROM ih ORDER BY v <#> ihq.q LIMIT 10) =
         ARRAY(SELECT v <#> ihq.q FROM ih ORDER BY (v <#> ihq.q) + 0 LIMIT 10)) AS exact
FROM ihq;
DROP INDEX ih_ip;

CREATE INDEX ih_cos ON ih USING ivfflat (v halfvec_cosine_ops) WITH (lists = 10);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT round((v <=> ihq.q)::numeric, 3) FROM ih ORDER BY v <=> ihq.q LIMIT 10) =
         ARRAY(SELECT round((v <=> ihq.q)::numeric, 3) FROM ih ORDER BY (v <=> ihq.q) + 0 LIMIT 10)) AS exact
FROM ihq;
DROP INDEX ih_cos;

-- halfvec has no default ivfflat operator class, as for hnsw
CREATE INDEX ON ih USING ivfflat (v);

SELECT opcname, amvalidate(c.oid)
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'ivfflat' AND opcintype = 'halfvec'::regtype ORDER BY opcname;

DROP TABLE ih, ihq;
