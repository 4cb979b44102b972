-- hnsw on sparsevec: for every operator class the index top 5 matches exact
-- search for (almost) every query; elements differ in size with their
-- number of non-zeros.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET hnsw.ef_search = 200;

SELECT setseed(0.6);
-- 400 vectors of 1000 dimensions with 1 to 20 non-zeros each
CREATE TABLE sh (id int PRIMARY KEY, v sparsevec(1000));
INSERT INTO sh
SELECT i, ('{' || string_agg(d || ':' || round((random() * 4 + 0.5)::numeric, 3), ',' ORDER BY d) || '}/1000')::sparsevec
FROM generate_series(1, 400) i,
     LATERAL (SELECT DISTINCT (random() * 99)::int + 1 AS d
              FROM generate_series(1, 1 + i % 20)) ds
GROUP BY i;
CREATE TABLE shq AS SELECT id AS qid, v AS q FROM sh WHERE id % 40 = 0;
SELECT count(*), min(nnz), max(nnz)
FROM (SELECT array_length(regexp_split_to_array(v::text, ','), 1) AS nnz FROM sh) s;

CREATE INDEX sh_l2 ON sh USING hnsw (v sparsevec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM sh ORDER BY v <-> '{1:1}/1000' LIMIT 5;
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM sh ORDER BY v <-> shq.q, id LIMIT 5) =
         ARRAY(SELECT id FROM sh ORDER BY (v <-> shq.q) + 0, id LIMIT 5)) AS exact
FROM shq;
SELECT count(*) FROM hnsw_check('sh_l2');
-- rows of other sizes inserted afterwards are found
INSERT INTO sh VALUES (1001, '{5:1,999:2}/1000'), (1002, '{1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8,9:9,10:10}/1000');
SELECT id FROM sh ORDER BY v <-> '{5:1,999:2}/1000' LIMIT 1;
SELECT id FROM sh ORDER BY v <-> '{1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8,9:9,10:10}/1000' LIMIT 1;
DELETE FROM sh WHERE id > 1000;
DROP INDEX sh_l2;

CREATE INDEX sh_ip ON sh USING hnsw (v sparsevec_ip_ops);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM sh ORDER BY v <#> shq.q LIMIT 5) =
         ARRAY(SELECT id FROM sh ORDER BY (v <#> shq.q) + 0 LIMIT 5)) AS exact
FROM shq;
DROP INDEX sh_ip;

CREATE INDEX sh_cos ON sh USING hnsw (v sparsevec_cosine_ops);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM sh ORDER BY v <=> shq.q LIMIT 5) =
         ARRAY(SELECT id FROM sh ORDER BY (v <=> shq.q) + 0 LIMIT 5)) AS exact
FROM shq;
DROP INDEX sh_cos;

CREATE INDEX sh_l1 ON sh USING hnsw (v sparsevec_l1_ops);
SELECT count(*) AS queries,
       count(*) FILTER (WHERE
         ARRAY(SELECT id FROM sh ORDER BY v <+> shq.q LIMIT 5) =
         ARRAY(SELECT id FROM sh ORDER BY (v <+> shq.q) + 0 LIMIT 5)) AS exact
FROM shq;
DROP INDEX sh_l1;

-- other dimensions are refused
CREATE INDEX sh_l2 ON sh USING hnsw (v sparsevec_l2_ops);
CREATE TABLE sh2 (v sparsevec);
INSERT INTO sh2 VALUES ('{1:1}/10'), ('{1:1}/20');
CREATE INDEX ON sh2 USING hnsw (v sparsevec_l2_ops);

SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE a.amname = 'hnsw' AND opcname LIKE 'sparsevec%' ORDER BY 1;
DROP TABLE sh, shq, sh2;
