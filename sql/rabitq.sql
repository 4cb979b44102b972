-- rabitq: the RaBitQ quantizer (src/quant/rabitq.c) without an index, through
-- vectorann_rabitq_check(dims, bits, seed, n): n pseudo-random anisotropic
-- vectors with varied norms and n queries, every query against every code.
-- Errors are relative to |o| |q|.  The bounds hold with room on any CPU (the
-- code kernel's integers are the same everywhere) and fail for a broken
-- rotation (norms, inverse, mixing), a wrong grid choice (error must fall
-- about twofold per extra bit), wrong correction factors (bias, correlation)
-- or a wrong kernel.
-- dims 300: D = 320, not a power of two (two overlapping Hadamard blocks)
CREATE TEMP TABLE rq300 AS
SELECT b, r.* FROM generate_series(1, 8) b, vectorann_rabitq_check(300, b, 42, 40) r;
-- dims 256 (D a power of two) and 784 (Fashion-MNIST's), bits 1, 4, 8
CREATE TEMP TABLE rqdb AS
SELECT d, b, r.* FROM (VALUES (256), (784)) dd(d), (VALUES (1), (4), (8)) bb(b),
     vectorann_rabitq_check(d, b, 7, 30) r;

-- the rotation is orthogonal and mixes: norms and R^T R x = x to 1e-5, and no
-- coordinate of a rotated basis vector much above 1/sqrt(D)
SELECT bool_and(rotation_norm_error < 1e-5) AS norms_kept,
       bool_and(rotation_inverse_error < 1e-5) AS inverse_exact,
       bool_and(rotation_spread < 6) AS spread
FROM (SELECT rotation_norm_error, rotation_inverse_error, rotation_spread FROM rq300
      UNION ALL SELECT rotation_norm_error, rotation_inverse_error, rotation_spread FROM rqdb) s;

-- each extra bit cuts the query-code and code-code errors and the decoding
-- error (the grid of largest cosine; about twofold per bit)
SELECT b, ip_mean_error < 0.8 * lag(ip_mean_error) OVER w AS ip_error_falls,
       code_ip_mean_error < 0.8 * lag(code_ip_mean_error) OVER w AS code_error_falls,
       decode_error < 0.7 * lag(decode_error) OVER w AS decode_error_falls
FROM rq300 WINDOW w AS (ORDER BY b) ORDER BY b OFFSET 1;

-- absolute bounds: 1 bit is plain RaBitQ (error about 0.5 / sqrt(D), a
-- decoded vector at cosine about 0.8 from the original); 8 bits
-- correlate with the exact inner products above 0.99999
SELECT d, b,
       ip_mean_error * sqrt(d) < CASE b WHEN 1 THEN 0.7 WHEN 4 THEN 0.1 ELSE 0.012 END AS ip_error_bound,
       ip_max_error < CASE b WHEN 1 THEN 0.25 WHEN 4 THEN 0.04 ELSE 0.005 END AS ip_max_bound,
       abs(ip_bias) < 0.5 * ip_mean_error AS unbiased,
       ip_correlation > CASE b WHEN 1 THEN 0.97 WHEN 4 THEN 0.999 ELSE 0.99999 END AS correlated,
       decode_error BETWEEN CASE b WHEN 1 THEN 0.5 ELSE 0 END
                        AND CASE b WHEN 1 THEN 0.7 WHEN 4 THEN 0.12 ELSE 0.01 END AS decode_bound
FROM (SELECT 300 AS d, * FROM rq300 WHERE b IN (1, 4, 8) UNION ALL SELECT * FROM rqdb) s
ORDER BY d, b;

-- deterministic for a seed; another seed is another rotation
SELECT vectorann_rabitq_check(300, 3, 42, 5) = vectorann_rabitq_check(300, 3, 42, 5) AS same,
       (vectorann_rabitq_check(300, 3, 43, 5)).rotation_spread
         <> (vectorann_rabitq_check(300, 3, 42, 5)).rotation_spread AS seed_matters;
-- the edges of the dimension range
SELECT (r).rotation_inverse_error < 1e-5 AS one_dim, (r).ip_correlation > 0.999 AS one_dim_exact
FROM (SELECT vectorann_rabitq_check(1, 2, 1, 20) AS r) s;
-- D just below a power of two (1984: Hadamard blocks overlapping in only 64
-- coordinates; 16000, the most dimensions): the rotation must still spread
-- every vector evenly, or the 1-bit estimator's error grows and turns biased
SELECT d, (r).rotation_inverse_error < 1e-5 AS inverse_exact,
       (r).ip_mean_error * sqrt(d) < 0.7 AS ip_error_bound,
       abs((r).ip_bias) < 0.5 * (r).ip_mean_error AS unbiased
FROM (SELECT d, vectorann_rabitq_check(d, 1, 1, 20) AS r FROM (VALUES (1984), (16000)) dd(d)) s
ORDER BY d;

-- argument errors
SELECT vectorann_rabitq_check(0, 1, 1, 1);
SELECT vectorann_rabitq_check(16001, 1, 1, 1);
SELECT vectorann_rabitq_check(8, 0, 1, 1);
SELECT vectorann_rabitq_check(8, 9, 1, 1);
SELECT vectorann_rabitq_check(8, 1, 1, 0);
