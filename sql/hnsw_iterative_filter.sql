-- hnsw: iterative scans under a selective filter return the right rows,
-- plain and quantized (quantization = 'rabitq', whose candidates are
-- re-ranked with exact distances from the table).  10,000 rows of 24
-- dimensions with norms from 0.1 to 10; each of 20 queries keeps one of 200
-- categories (0.5 % of the rows, 50) and asks for its 10 nearest, checked
-- against an exact scan: strict_order must give them in exact order,
-- relaxed_order the same rows (in an order that may differ where a later
-- search found a nearer row).  Before a quantized strict_order scan held a
-- re-ranked row until the next search's candidates were re-ranked too, it
-- filled the LIMIT for 6 of the 20 queries (it dropped the rows that came
-- after farther ones), and relaxed_order, when each group of re-ranked
-- candidates was returned at once, returned the right rows for 17.
SET client_min_messages = warning;
SET enable_seqscan = off;
SET enable_bitmapscan = off;

SELECT setseed(0.42);
CREATE TABLE hf (id int PRIMARY KEY, category int, v vector(24));
INSERT INTO hf
SELECT i, (i * 37) % 200,
       ARRAY(SELECT ((random() - 0.3) * (0.1 + (i % 7) * 1.6))::real
             FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 10000) i;
-- query qid keeps category qid
CREATE TABLE hfq (qid int, q vector(24));
INSERT INTO hfq
SELECT i, ARRAY(SELECT ((random() - 0.3) * (0.1 + (i % 7) * 1.6))::real
                FROM generate_series(1, 24) WHERE i > 0)::vector
FROM generate_series(1, 20) i;
ANALYZE hf;
CREATE TABLE hf_exact AS
SELECT qid, ARRAY(SELECT id FROM hf WHERE category = qid
                  ORDER BY (v <-> q) + 0 LIMIT 10) AS ids
FROM hfq;

-- per query: the filtered index answer in order, and its rows sorted
CREATE FUNCTION hf_answers(OUT qid int, OUT ids int[], OUT sorted int[])
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT qid, a, ARRAY(SELECT unnest(a) ORDER BY 1)
    FROM hfq, LATERAL (SELECT ARRAY(SELECT id FROM hf WHERE category = hfq.qid
                                    ORDER BY v <-> hfq.q LIMIT 10) AS a) s
$$;

-- queries answered exactly: in exact order, as the same rows
CREATE VIEW hf_score AS
SELECT current_setting('hnsw.iterative_scan') AS mode,
       count(*) FILTER (WHERE a.ids = e.ids) AS exact_order,
       count(*) FILTER (WHERE a.sorted = ARRAY(SELECT unnest(e.ids) ORDER BY 1)) AS same_rows,
       count(*) FILTER (WHERE cardinality(a.ids) = 10) AS filled
FROM hf_answers() a JOIN hf_exact e USING (qid);

-- plain
CREATE INDEX hf_idx ON hf USING hnsw (v vector_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE category = 7 ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
SET hnsw.iterative_scan = strict_order;
SELECT * FROM hf_score;
SET hnsw.iterative_scan = relaxed_order;
SELECT * FROM hf_score;
DROP INDEX hf_idx;

-- quantized: strict_order may still drop a row that a search on estimates
-- finds only two batches after a farther one was returned (one of the 20
-- here); relaxed_order returns it, and every query's rows are the right ones
CREATE INDEX hf_idx ON hf USING hnsw (v vector_l2_ops) WITH (quantization = 'rabitq');
EXPLAIN (COSTS OFF) SELECT id FROM hf WHERE category = 7 ORDER BY v <-> '[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]' LIMIT 10;
SET hnsw.iterative_scan = strict_order;
SELECT mode, exact_order >= 19 AS exact_order_19, same_rows >= 19 AS same_rows_19, filled FROM hf_score;
SET hnsw.iterative_scan = relaxed_order;
SELECT mode, same_rows, filled FROM hf_score;
-- a least number of candidates re-ranked first changes nothing
SET hnsw.rerank_candidates = 10;
SELECT mode, same_rows, filled FROM hf_score;
SET hnsw.iterative_scan = strict_order;
SELECT mode, exact_order >= 19 AS exact_order_19, same_rows >= 19 AS same_rows_19, filled FROM hf_score;
RESET hnsw.rerank_candidates;
RESET hnsw.iterative_scan;

DROP VIEW hf_score;
DROP FUNCTION hf_answers;
DROP TABLE hf, hfq, hf_exact;
