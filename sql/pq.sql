-- pq: the product quantizer (src/quant/pq.c) without an index, through
-- vectorann_pq_check(dims, m, n, distinct, seed): codebooks trained on n
-- clustered pseudo-random vectors (the first distinct of them drawn, the rest
-- repeating them), codes of those and of 100 fresh vectors, and the ADC
-- tables of 20 queries against float8 arithmetic.  The bounds hold with room
-- on any CPU and fail for wrong tables or scans (the errors are float4
-- rounding, about 1e-7), for training that does not move the centroids, for
-- a broken residual expansion, and for
-- training that mishandles duplicates or few samples.
CREATE TEMP TABLE pqc AS
SELECT d, m, r.* FROM (VALUES (64, 4), (64, 8), (64, 16), (60, 12), (784, 49)) dm(d, m),
     vectorann_pq_check(d, m, CASE WHEN d = 784 THEN 1000 ELSE 3000 END,
                        100000, 7) r;

-- the tables and the scan give the distance to the code's reconstruction,
-- up to float4 rounding: L2, inner product, and the residual expansion
SELECT d, m, adc_l2_error < 1e-5 AS l2_exact, adc_ip_error < 1e-5 AS ip_exact,
       residual_l2_error < 1e-5 AS residual_exact, codewords
FROM pqc ORDER BY d, m;

-- trained codebooks: Lloyd's iterations cut the training error by about a
-- third from the initial centroids (sampled vectors; 0.0216, 0.0158, 0.0094,
-- 0.0116 and 0.0185 here without them), fresh vectors fare about as well,
-- and the error falls with every doubling of m (twice the code bytes)
SELECT d, m, train_error < CASE WHEN d = 784 THEN 0.015 WHEN d = 60 THEN 0.0095
                                WHEN m = 4 THEN 0.017 WHEN m = 8 THEN 0.013 ELSE 0.0075 END
         AS trained,
       test_error < 2 * train_error AS generalises,
       test_error < 0.8 * lag(test_error) OVER (PARTITION BY d ORDER BY m) AS falls_with_m
FROM pqc ORDER BY d, m;

-- ADC ranks well enough for re-ranking: the exact 10 nearest are found
-- among the 50 nearest by ADC (0.72, 0.80, 0.955 here)
SELECT d, m, recall >= CASE WHEN m = 16 THEN 0.93 ELSE 0.65 END AS recall_bound
FROM pqc WHERE d = 64 ORDER BY m;

-- duplicates and few samples: with at most 256 distinct vectors each is a
-- centroid (exact codes) and no centroid is lost; 300 distinct fill all 256
SELECT "distinct", (r).train_error = 0 AS exact_codes, (r).codewords,
       (r).adc_l2_error < 1e-5 AS l2_exact
FROM (SELECT k AS "distinct", vectorann_pq_check(32, 8, 2000, k, 3) AS r
      FROM (VALUES (1), (2), (100), (256), (300)) kk(k)) s ORDER BY 1;
SELECT (r).train_error = 0 AS exact_codes, (r).codewords, (r).recall
FROM (SELECT vectorann_pq_check(32, 8, 5, 5, 3) AS r) s;
-- no samples: all centroids 0, nothing breaks
SELECT * FROM vectorann_pq_check(8, 2, 0, 1, 1);
-- one subspace of every coordinate, and subvectors of one coordinate
SELECT (r).adc_l2_error < 1e-5 AS l2_exact, (r).codewords
FROM (SELECT vectorann_pq_check(24, m, 1000, 1000, 5) AS r FROM (VALUES (1), (24)) mm(m)) s;

-- deterministic for a seed; another seed trains other codebooks
SELECT vectorann_pq_check(64, 8, 500, 500, 11) = vectorann_pq_check(64, 8, 500, 500, 11) AS same,
       (vectorann_pq_check(64, 8, 500, 500, 11)).train_error
         <> (vectorann_pq_check(64, 8, 500, 500, 12)).train_error AS seed_matters;

-- argument errors; the hint names the default m (subvectors nearest 8
-- coordinates: 98 for 784, 10 for 100, 97 for the prime 97)
SELECT vectorann_pq_check(784, 50, 10, 10, 1);
SELECT vectorann_pq_check(100, 3, 10, 10, 1);
SELECT vectorann_pq_check(97, 2, 10, 10, 1);
SELECT vectorann_pq_check(8, 0, 10, 10, 1);
SELECT vectorann_pq_check(8, 16, 10, 10, 1);
SELECT vectorann_pq_check(0, 1, 10, 10, 1);
SELECT vectorann_pq_check(16001, 1, 10, 10, 1);
SELECT vectorann_pq_check(8, 2, -1, 10, 1);
SELECT vectorann_pq_check(8, 2, 10, 0, 1);
